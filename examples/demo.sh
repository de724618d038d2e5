#!/usr/bin/env bash
# `make demo`: build a scratch data repo from examples/demo-repo and take a short tour.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
demo=${OPP_DEMO_DIR:-$here/../.demo}
rm -rf "$demo"
mkdir -p "$demo"
cp -R "$here/demo-repo" "$demo/crm"
# The sample was written as of 2026-11-26: its dates move to today, by whole weeks.
shift=$(python3 "$here/shift_dates.py" "$demo/crm")
wayne_close=$(python3 -c "import datetime as d; print(d.date(2027, 1, 29) + d.timedelta(days=$shift))")
cd "$demo/crm"
git init -q
git add -A
git -c user.name="opp demo" -c user.email=demo@opp.invalid \
    commit -q -m "demo: sample data from examples/demo-repo"
export OPP_USER=${OPP_USER:-"Demo User"}

bold=$'\033[1m' plain=$'\033[0m'
if [ ! -t 1 ] || [ -n "${NO_COLOR:-}" ]; then bold='' plain=''; fi
step() { printf '\n%s$ %s%s\n' "$bold" "$*" "$plain"; "$@"; }

step opp validate
step opp config get stages
step opp catalog list
step opp list --status won
printf '\n%s$ ID=$(opp new "Wayne Enterprises rollout" --customer "Wayne Enterprises" --objective 12000 --close-date %s)%s\n' "$bold" "$wayne_close" "$plain"
ID=$(opp new "Wayne Enterprises rollout" --customer "Wayne Enterprises" --objective 12000 \
     --close-date "$wayne_close")
echo "$ID"
step opp add-product "$ID" LIC-STD --qty 20
step opp add-product "$ID" CONS-DAY --qty 3 --discount 5
step opp stage "$ID" proposal
step opp list --status open
step opp show "$ID"
step git log --oneline -5
step opp pipeline
step opp forecast
step opp agenda --owner "Alice Martin"
# the sample is a first-round repo whose customers are text: make them accounts
step opp init --upgrade
step opp account show "acme corp"
step opp pipeline --by customer
step opp --locale it forecast --by quarter
printf '\nThe demo data repo is in %s; cd there and try more opp commands.\n' "$(pwd)"
printf 'Tab completion: eval "$(opp completion bash)"; editors validate the files from their first line.\n'
