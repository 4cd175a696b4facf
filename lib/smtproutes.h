#ifndef SMTPROUTES_H
#define SMTPROUTES_H

#include <stddef.h>
#include <sys/socket.h>

#include "constmap.h"

/* control/smtproutes, as qmail-remote reads it: lines "domain:relay",
 * ".suffix:relay" and ":relay" (the default), in a constmap built with
 * splitcolon (so the relay is everything after the first colon).
 *
 * smtproutes_find tries the whole host, then each ".suffix" of it from
 * the longest down, then "" (qmail's order): for "a.b.example" the keys
 * "a.b.example", ".b.example", ".example", "". It returns the relay of the
 * first line found, or null when none matches (deliver by MX). Keys are
 * compared without regard to ASCII case. */
const char *smtproutes_find(const struct constmap *routes, const char *host, size_t len);

/* What a relay, or a recipient's domain, says to connect to. */
enum smtproutes_kind {
  SMTPROUTES_MX = 0,    /* empty relay: the MX of the recipient's domain */
  SMTPROUTES_NAME = 1,  /* a host name: its own addresses (A/AAAA), no MX */
  SMTPROUTES_IP = 2     /* an address literal: ss holds it */
};

struct smtproutes_relay {
  enum smtproutes_kind kind;
  const char *host;     /* the name, for SMTPROUTES_NAME (points into relay) */
  size_t hostlen;
  unsigned port;        /* 25 unless given */
  struct sockaddr_storage ss; /* for SMTPROUTES_IP, with the port set */
  socklen_t sslen;
};

#define SMTPROUTES_PORT 25

/* Parses a relay: "", ":port", "name", "name:port", "1.2.3.4",
 * "[1.2.3.4]", "[IPv6:2001:db8::1]", each optionally followed by ":port"
 * (1..65535). A bare IPv6 address is not a relay (its colons would be
 * ports; qmail splits at the first colon): it must be written in
 * brackets. 1 and *r filled, or 0 if the relay is malformed (a bad port,
 * an unclosed bracket, a bracket that holds no address, a name holding
 * anything but letters, digits, '-', '.' and '_', a name of more than 255
 * bytes). */
int smtproutes_relay(const char *relay, struct smtproutes_relay *r);

/* A recipient's domain that is an address literal (RFC 5321 4.1.3):
 * "[1.2.3.4]" or "[IPv6:2001:db8::1]" (the tag case-insensitive). 1 with
 * *ss set (port 25), or 0 if host[0..len) is not one. */
int smtproutes_literal(const char *host, size_t len, struct sockaddr_storage *ss, socklen_t *sslen);

#endif
