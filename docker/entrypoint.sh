#!/bin/sh
# Entry point of the shoal:local image (docker-compose.yml): runs one member and forms the cluster
# on first start. Environment:
#   SHOAL_MEMBER   this member's name (m1, m2, …)
#   SHOAL_ADDRESS  its cluster address HOST:PORT (the API listens on PORT+1)
#   SHOAL_NETWORK_BRIDGE  instance bridge made at bootstrap (default shoalbr0; `none` for none)
#   SHOAL_BOOTSTRAP=1 on exactly one member: `shoald init --auto`, then it issues a join token for
#                  each name in SHOAL_JOINERS into /shared/tokens/<name>
#   others wait for /shared/tokens/$SHOAL_MEMBER and `shoald init --join` with it.
# A member that is already initialized (its SHOAL_DIR volume survives) just resumes.
set -eu
: "${SHOAL_MEMBER:?}" "${SHOAL_ADDRESS:?}"
mkdir -p "$SHOAL_DIR" /shared/tokens
chmod 0711 "$SHOAL_DIR"

shoald &
daemon=$!
trap 'kill -TERM $daemon 2>/dev/null; wait $daemon; exit 0' TERM INT
shoald waitready --timeout 120

if [ ! -e "$SHOAL_DIR/.initialized" ]; then
  if [ "${SHOAL_BOOTSTRAP:-0}" = 1 ]; then
    bridge="${SHOAL_NETWORK_BRIDGE:-shoalbr0}"
    if [ "$bridge" = none ]; then net="--network-bridge none"; else net="--network-bridge $bridge --network-ipv4 auto"; fi
    # shellcheck disable=SC2086 # $net is two or four words on purpose
    shoald init --auto --name "$SHOAL_MEMBER" --address "$SHOAL_ADDRESS" --storage-backend dir $net
    for j in ${SHOAL_JOINERS:-}; do
      shoal cluster add "$j" | tr -s ' \n' '\n\n' | grep -E '^[A-Za-z0-9+/=_-]{60,}$' | tail -n1 >"/shared/tokens/$j.tmp"
      mv "/shared/tokens/$j.tmp" "/shared/tokens/$j"
    done
  else
    echo "waiting for a join token in /shared/tokens/$SHOAL_MEMBER"
    while [ ! -s "/shared/tokens/$SHOAL_MEMBER" ]; do sleep 1; done
    shoald init --join "$(cat "/shared/tokens/$SHOAL_MEMBER")" --name "$SHOAL_MEMBER" --address "$SHOAL_ADDRESS"
    rm -f "/shared/tokens/$SHOAL_MEMBER"
  fi
  touch "$SHOAL_DIR/.initialized"
fi
echo "member $SHOAL_MEMBER ready"
wait $daemon
