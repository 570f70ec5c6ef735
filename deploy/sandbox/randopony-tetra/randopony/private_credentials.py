# Stand-in credentials: the deployment tightens this file to mode 400.
EMAIL_HOST_PASSWORD = "not-a-real-password"
