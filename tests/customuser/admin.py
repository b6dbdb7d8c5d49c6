from django.contrib import admin

from .models import EmailUser

admin.site.register(EmailUser)
