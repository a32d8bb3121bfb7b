// Command ringdb-cli is ringdb's command-line client: an interactive shell
// when run without a command, or one command when given one:
//
//	ringdb-cli -a 127.0.0.1:7379 SET k v
//
// It exits with status 1 when the command gets an error reply (and, fed a
// script on stdin, when any command does).
//
// As redis-cli, it prints replies formatted when stdout is a terminal
// ("v" quoted, (integer) 1, (nil), numbered arrays, (error) ERR ...) and
// raw otherwise: a string's bytes as they are, an integer's digits, nil
// as an empty line, an array's elements one a line, an error reply as
// "ERR ..." and an empty line. So a script gets the value itself:
//
//	V=$(ringdb-cli GET k)
//
// -raw forces the raw style on a terminal, -no-raw the formatted one in a
// pipe; the later of the two wins.
package main

import (
	"context"
	"os"

	"github.com/ringdb/ringdb/internal/repl"
)

func main() {
	os.Exit(repl.Run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
