from django.urls import path

from . import views

app_name = "refreshauth"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("refresh/", views.RefreshView.as_view(), name="refresh"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("logout-all/", views.LogoutAllView.as_view(), name="logout-all"),
    path("sessions/", views.SessionListView.as_view(), name="sessions"),
    path("sessions/<str:session_id>/", views.SessionDetailView.as_view(), name="session"),
    path("csrf/", views.CSRFView.as_view(), name="csrf"),
    path("jwks/", views.JWKSView.as_view(), name="jwks"),
]
