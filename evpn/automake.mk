# vswitch-evpn: the BGP EVPN agent that runs beside vswitchd and gobgpd.  A
# Python program (its docstring says why), installed without its suffix.
sbin_SCRIPTS = evpn/vswitch-evpn
CLEANFILES += evpn/vswitch-evpn
EXTRA_DIST += evpn/vswitch-evpn.py

evpn/vswitch-evpn: evpn/vswitch-evpn.py
	$(MKDIR_P) evpn
	cp $(srcdir)/evpn/vswitch-evpn.py $@
	chmod +x $@
