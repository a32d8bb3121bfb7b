module github.com/ringdb/ringdb/benchmarks

go 1.26.0

replace github.com/ringdb/ringdb => ../

require (
	github.com/VictoriaMetrics/fastcache v1.13.2
	github.com/cespare/xxhash/v2 v2.3.0
	github.com/coocood/freecache v1.2.7
	github.com/maypok86/otter/v2 v2.4.0
	github.com/ringdb/ringdb v0.0.0-00010101000000-000000000000
)

require (
	github.com/golang/snappy v1.0.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)
