#!/usr/bin/env bash
# Session 14, device call 2, on the machine of call 1 (issue 17): vit-bert12-p4 seeds 1 and 2, the plan beside this file.
# Not run in session 14 either: every machine start was refused, then loans were paused. For the next GPU session: repack first.
set -u
cd "$(dirname "$0")/../.."
BUDGET_S=${BUDGET_S:-575} PRECOMPILE=${PRECOMPILE:-0} bash tools/device/zoo-runs.sh .device-pack/gpubench bench/plans/2026-12-07-s14-call2.txt
