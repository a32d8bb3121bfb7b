// Command ringdb-cli is ringdb's command-line client: an interactive shell
// when run without a command, or one command when given one:
//
//	ringdb-cli -a 127.0.0.1:7379 SET k v
//
// It exits with status 1 when the command gets an error reply.
package main

import (
	"context"
	"os"

	"github.com/ringdb/ringdb/internal/repl"
)

func main() {
	os.Exit(repl.Run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
