# Stand-in credentials: the deployment tightens this file to mode 400 (randopony.credentialFiles).
SMTP_PASSWORD = "not-a-real-password"
