"""Settings: the database is the branch named by PGBRANCH_URL (postgresql://user:password@host:port/db)."""
import os
from urllib.parse import urlparse

_url = urlparse(os.environ["PGBRANCH_URL"])
SECRET_KEY = "pgbranch-test-only"
USE_TZ = True
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "shop", "blog"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _url.path.lstrip("/"),
        "USER": _url.username,
        "PASSWORD": _url.password,
        "HOST": _url.hostname,
        "PORT": _url.port,
    }
}
