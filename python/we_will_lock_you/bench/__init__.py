"""The benchmark (``python -m we_will_lock_you.bench``) and the server launchers it and the
tests use. Not imported by the client itself."""
