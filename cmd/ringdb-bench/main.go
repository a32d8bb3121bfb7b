// Command ringdb-bench is a load generator for ringdb (binary protocol,
// through the Go SDK) and for any RESP server, Redis included. See
// internal/benchtool for the flags and the measurement method.
package main

import (
	"os"

	"github.com/ringdb/ringdb/internal/benchtool"
)

func main() { os.Exit(benchtool.Main(os.Args[1:], os.Stdout, os.Stderr)) }
