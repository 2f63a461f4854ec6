// NetMonitor: WAN link and address changes through rtnetlink (libnl-route-3). See NetMonitor.swift.
import CNetlink
