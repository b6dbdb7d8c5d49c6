from django.urls import include, path

from example_project.urls import urlpatterns as example_urlpatterns

urlpatterns = [
    *example_urlpatterns,
    path("accounts/", include("django.contrib.auth.urls")),
]
