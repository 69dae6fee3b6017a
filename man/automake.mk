# The manual pages.  tests/man.sh checks that they document every command,
# option, port type and drop reason, and that they format without warnings.
dist_man_MANS = man/vswitchd.8 man/vswitch-ctl.8 man/vswitch-evpn.8

TESTS += tests/man.sh
EXTRA_DIST += tests/man.sh
