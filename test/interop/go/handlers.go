package main

// Task handlers registered with the real go-delayed Worker. go-delayed addresses a handler
// by runtime.FuncForPC(fn).Name(), so in this package (main) they are "main.One",
// "main.Several", ... Each call RPUSHes one JSON document to the results list:
//   {"func":"One","args":[<tagged>...],"types":["int64",...]}
// "types" holds the Go type of every parameter as go-delayed filled it in.

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/gomodule/redigo/redis"
)

// Point travels as a MessagePack array of its fields, [X, Y].
type Point struct {
	X int64
	Y string
}

var (
	resultsPool *redis.Pool
	resultsKey  string
)

func recordDoc(doc map[string]interface{}) {
	doc["pid"] = os.Getpid()
	data, err := json.Marshal(doc)
	if err != nil {
		fmt.Fprintf(os.Stderr, "goharness: cannot encode record: %v\n", err)
		return
	}
	conn := resultsPool.Get()
	defer conn.Close()
	if _, err := conn.Do("RPUSH", resultsKey, data); err != nil {
		fmt.Fprintf(os.Stderr, "goharness: cannot record: %v\n", err)
	}
}

func record(name string, args ...interface{}) {
	tagged := make([]interface{}, len(args))
	types := make([]string, len(args))
	for i, a := range args {
		tagged[i] = toTagged(a)
		types[i] = goTypeOf(a)
	}
	recordDoc(map[string]interface{}{"func": name, "args": tagged, "types": types})
}

// NoArgs takes nothing.
func NoArgs() { record("NoArgs") }

// One takes a single argument: the payload is the value itself, not an array.
func One(a int64) { record("One", a) }

// Several takes several arguments: the payload is an array, one element per parameter.
func Several(a int64, s string, f float64, b []byte, ok bool) {
	record("Several", a, s, f, b, ok)
}

// WithStruct takes one struct, which travels as [X, Y].
func WithStruct(p Point) { record("WithStruct", p) }

// WithPointer takes a value and a struct pointer: payload [n, [X, Y]].
func WithPointer(n int64, p *Point) { record("WithPointer", n, p) }

// Variadic: payload [prefix, [rest...]].
func Variadic(prefix string, rest ...int64) { record("Variadic", prefix, rest) }

// OnlyVariadic: payload [rest...].
func OnlyVariadic(rest ...int64) { record("OnlyVariadic", rest) }

// Any records whatever generic value go-delayed decodes into an interface{}.
func Any(v interface{}) { record("Any", v) }

// AnyList records several generic values (payload array of any length >= 1).
func AnyList(v []interface{}) { record("AnyList", v) }

// StrMap takes a map with string keys.
func StrMap(m map[string]interface{}) { record("StrMap", m) }

// Strings takes a list of strings.
func Strings(s []string) { record("Strings", s) }

// Uint takes an unsigned 64-bit integer.
func Uint(u uint64) { record("Uint", u) }

// Small takes an int8 (what happens to out-of-range values?).
func Small(i int8) { record("Small", i) }

// Float32 takes a float32.
func Float32(f float32) { record("Float32", f) }

// Bytes takes a []byte (what happens when a str arrives?).
func Bytes(b []byte) { record("Bytes", b) }

// Str takes a string (what happens when a bin arrives?).
func Str(s string) { record("Str", s) }

// Slow records phase "start", sleeps ms milliseconds, then records phase "done".
func Slow(ms int64, tag string) {
	recordDoc(map[string]interface{}{"func": "Slow", "phase": "start", "tag": tag})
	time.Sleep(time.Duration(ms) * time.Millisecond)
	recordDoc(map[string]interface{}{"func": "Slow", "phase": "done", "tag": tag})
}

// Panics records an attempt, then panics (go-delayed has no retry; see PEERS.md).
func Panics(tag string) {
	recordDoc(map[string]interface{}{"func": "Panics", "tag": tag})
	panic("Panics(" + tag + ") failed on purpose")
}

var allHandlers = []interface{}{
	NoArgs, One, Several, WithStruct, WithPointer, Variadic, OnlyVariadic,
	Any, AnyList, StrMap, Strings, Uint, Small, Float32, Bytes, Str, Slow, Panics,
}
