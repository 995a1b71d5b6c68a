"""Real stand-ins for the systems job agents talk to: small HTTP services on 127.0.0.1 (GitHub
Actions, Argo CD, Terraform Cloud, a webhook receiver), recording ``docker``/``kubectl``
executables, and a throwaway sshd. Tests run the real agent code against them."""
