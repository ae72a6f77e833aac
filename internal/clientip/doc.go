// Package clientip tells which address an HTTP request came from, behind trusted
// reverse proxies (the admin API's audit and throttles, provisioning's log and limits).
package clientip
