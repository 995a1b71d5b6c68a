#!/bin/sh
# The quickstart's "deployment": writes what it was asked to run under .reconciler/deployed/,
# so a reconcile visibly changes something. The job arrives as JSON on stdin.
set -eu
out="$RECONCILER_WORKDIR/.reconciler/deployed/$RECONCILER_DEPLOYMENT/$RECONCILER_ENVIRONMENT/$RECONCILER_RESOURCE"
if [ "$RECONCILER_OPERATION" = "uninstall" ]; then
  rm -rf "$out"
  echo "uninstalled $RECONCILER_DEPLOYMENT from $RECONCILER_RESOURCE ($RECONCILER_ENVIRONMENT)"
  exit 0
fi
mkdir -p "$out"
cat > "$out/job.json"
printf '%s\n' "$RECONCILER_VERSION" > "$out/VERSION"
echo "$RECONCILER_OPERATION $RECONCILER_DEPLOYMENT $RECONCILER_VERSION on $RECONCILER_RESOURCE ($RECONCILER_ENVIRONMENT)"
