#!/bin/sh
# Stands in for the CUnit suites when configure did not find CUnit: a visible skip.
echo "CUnit was not found when ./configure ran: the core's CUnit suites were not built."
echo "Install CUnit (libcunit1-dev, or scripts/setup.sh) and re-run ./configure."
exit 77
