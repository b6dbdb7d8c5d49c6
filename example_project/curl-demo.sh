
# The browser demo (cookie transport): open http://127.0.0.1:8000/ and log in as demo.
# The API schema and its UI: http://127.0.0.1:8000/api/schema/ui/
#
# Try it (in another shell, while the server runs). Log in as the demo user:
LOGIN=$(curl -s -X POST http://127.0.0.1:8000/api/auth/login/ -H 'Content-Type: application/json' -d '{"username": "demo", "password": "demo-password-123"}'); echo "$LOGIN"
ACCESS=$(printf '%s' "$LOGIN" | python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
REFRESH=$(printf '%s' "$LOGIN" | python3 -c 'import json, sys; print(json.load(sys.stdin)["refresh_token"])')
# Call the protected endpoint with the access token:
curl -s http://127.0.0.1:8000/api/me/ -H "Authorization: Bearer $ACCESS"; echo
# Rotate: a new access token and a new refresh token (the old one is dead now):
NEW=$(curl -s -X POST http://127.0.0.1:8000/api/auth/refresh/ -H 'Content-Type: application/json' -d "{\"refresh_token\": \"$REFRESH\"}"); echo "$NEW"
REFRESH=$(printf '%s' "$NEW" | python3 -c 'import json, sys; print(json.load(sys.stdin)["refresh_token"])')
# Log out (204), after which the refresh token answers token_revoked:
curl -s -o /dev/null -w '%{http_code}\n' -X POST http://127.0.0.1:8000/api/auth/logout/ -H 'Content-Type: application/json' -d "{\"refresh_token\": \"$REFRESH\"}"
curl -s -X POST http://127.0.0.1:8000/api/auth/refresh/ -H 'Content-Type: application/json' -d "{\"refresh_token\": \"$REFRESH\"}"; echo

