#!/usr/bin/env bash
# Regenerate migrations/versions/0003 from the models. ONLY while 0003 has not landed on main.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
rm -f migrations/versions/0003_*.py
export FLASK_APP=wsgi.py CADRE_INSTANCE="$tmp/instance"
unset DATABASE_URL REDIS_URL S3_ENDPOINT
.venv/bin/flask db upgrade >/dev/null 2>&1
.venv/bin/flask db migrate --rev-id 0003 -m "learning delivery records" >/dev/null 2>&1
sed -i 's/astext_type=Text()/astext_type=sa.Text()/g' migrations/versions/0003_*.py
rm -rf "$tmp"
echo "regenerated $(ls migrations/versions/0003_*.py)"
