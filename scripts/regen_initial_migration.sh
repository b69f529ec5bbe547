#!/usr/bin/env bash
# Regenerate migrations/versions/0001 from the models. ONLY while 0001 has not landed on main.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
mv migrations/versions/0002_audit_append_only.py "$tmp/"
rm -f migrations/versions/0001_foundation_schema.py
export FLASK_APP=wsgi.py CADRE_INSTANCE="$tmp/instance"
unset DATABASE_URL REDIS_URL S3_ENDPOINT
.venv/bin/flask db migrate --rev-id 0001 -m "foundation schema" >/dev/null 2>&1
sed -i 's/astext_type=Text()/astext_type=sa.Text()/g' migrations/versions/0001_foundation_schema.py
mv "$tmp/0002_audit_append_only.py" migrations/versions/
rm -rf "$tmp"
echo "regenerated migrations/versions/0001_foundation_schema.py"
