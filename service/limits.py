"""Field limits, as WordPress's comment table has them; imported by the schema, validation and docs."""

from __future__ import annotations

AUTHOR = 245
EMAIL = 100
URL = 200
COMMENT = 65_525
POST_ID = 200
USER_AGENT = 255
REFERRER = 255
