// glibc's stub resolver (libresolv): res_nquery and ns_parse for NAPTR/SRV/A/AAAA lookups (RFC 3263).
#ifndef DIALTONE_CRESOLV_SHIM_H
#define DIALTONE_CRESOLV_SHIM_H
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <resolv.h>
#endif
