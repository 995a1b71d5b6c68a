#!/bin/sh
# A verification probe: exits 0 when the agent left the deployment's files in place.
# Arguments: DEPLOYMENT RESOURCE. (A real setup would probe an HTTP health endpoint instead.)
test -d "$(dirname "$0")/../.reconciler" || exit 1
echo "{\"deployment\": \"$1\", \"resource\": \"$2\", \"healthy\": true}"
