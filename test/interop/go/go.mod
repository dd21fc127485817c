module nestjs-delayed/test/interop/goharness

go 1.21

require (
	github.com/gomodule/redigo v1.8.9
	github.com/shamaton/msgpack/v2 v2.1.1 // indirect
)
