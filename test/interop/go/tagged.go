package main

// Tagged JSON, the value notation shared by the interop harnesses (see ../PEERS.md):
// null/bool/string/array/object as themselves; integers as plain numbers when
// |n| <= 2^53-1, else {"$int":"<decimal>"}; floats always {"$float":<number>} (non-finite:
// "NaN", "Infinity", "-Infinity"); bytes {"$bytes":"<hex>"}; a map whose keys are not
// all strings {"$map":[[k,v],...]}.
// Go-only input extension: {"$go":"Point","value":[x,y]} builds a Point struct and
// {"$go":"*Point","value":[x,y]} a *Point, so case files can make go-delayed serialize
// real structs.

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

const maxSafeInteger = 1<<53 - 1

// decodeTagged parses tagged JSON text into Go values: int64 (uint64 above MaxInt64),
// float64, string, []byte, bool, nil, []interface{}, map[string]interface{},
// map[interface{}]interface{} (from "$map"), Point / *Point (from "$go").
func decodeTagged(text string) (interface{}, error) {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var raw interface{}
	if err := dec.Decode(&raw); err != nil {
		return nil, err
	}
	return fromTagged(raw)
}

func parseInteger(s string) (interface{}, error) {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i, nil
	}
	if u, err := strconv.ParseUint(s, 10, 64); err == nil {
		return u, nil
	}
	return nil, fmt.Errorf("integer %s does not fit in 64 bits", s)
}

func fromTagged(raw interface{}) (interface{}, error) {
	switch v := raw.(type) {
	case nil, bool, string:
		return v, nil
	case json.Number:
		s := v.String()
		if strings.ContainsAny(s, ".eE") {
			return strconv.ParseFloat(s, 64)
		}
		return parseInteger(s)
	case []interface{}:
		out := make([]interface{}, len(v))
		for i, item := range v {
			x, err := fromTagged(item)
			if err != nil {
				return nil, err
			}
			out[i] = x
		}
		return out, nil
	case map[string]interface{}:
		if len(v) == 1 {
			for key, inner := range v {
				switch key {
				case "$int":
					s, ok := inner.(string)
					if !ok {
						return nil, fmt.Errorf("$int wants a string, got %T", inner)
					}
					return parseInteger(s)
				case "$float":
					switch f := inner.(type) {
					case json.Number:
						return strconv.ParseFloat(f.String(), 64)
					case string:
						switch f {
						case "NaN":
							return math.NaN(), nil
						case "Infinity":
							return math.Inf(1), nil
						case "-Infinity":
							return math.Inf(-1), nil
						}
					}
					return nil, fmt.Errorf("bad $float value %v", inner)
				case "$bytes":
					s, ok := inner.(string)
					if !ok {
						return nil, fmt.Errorf("$bytes wants a hex string, got %T", inner)
					}
					return hex.DecodeString(s)
				case "$map":
					pairs, ok := inner.([]interface{})
					if !ok {
						return nil, fmt.Errorf("$map wants an array of pairs")
					}
					out := make(map[interface{}]interface{}, len(pairs))
					for _, p := range pairs {
						pair, ok := p.([]interface{})
						if !ok || len(pair) != 2 {
							return nil, fmt.Errorf("$map pair must be [key, value]")
						}
						k, err := fromTagged(pair[0])
						if err != nil {
							return nil, err
						}
						x, err := fromTagged(pair[1])
						if err != nil {
							return nil, err
						}
						out[k] = x
					}
					return out, nil
				}
			}
		}
		if goType, ok := v["$go"]; ok && len(v) == 2 {
			return buildGoValue(goType, v["value"])
		}
		out := make(map[string]interface{}, len(v))
		for key, item := range v {
			x, err := fromTagged(item)
			if err != nil {
				return nil, err
			}
			out[key] = x
		}
		return out, nil
	}
	return nil, fmt.Errorf("unexpected JSON value %T", raw)
}

func buildGoValue(goType, value interface{}) (interface{}, error) {
	fields, ok := value.([]interface{})
	if !ok || len(fields) != 2 {
		return nil, fmt.Errorf("$go value must be [X, Y]")
	}
	x, err := fromTagged(fields[0])
	if err != nil {
		return nil, err
	}
	y, err := fromTagged(fields[1])
	if err != nil {
		return nil, err
	}
	xi, ok := x.(int64)
	if !ok {
		return nil, fmt.Errorf("Point.X must be an int64, got %T", x)
	}
	ys, ok := y.(string)
	if !ok {
		return nil, fmt.Errorf("Point.Y must be a string, got %T", y)
	}
	switch goType {
	case "Point":
		return Point{X: xi, Y: ys}, nil
	case "*Point":
		return &Point{X: xi, Y: ys}, nil
	}
	return nil, fmt.Errorf("unknown $go type %v", goType)
}

// toTagged converts any Go value (as decoded by go-delayed into handler parameters) to
// its tagged-JSON form, ready for encoding/json.
func toTagged(value interface{}) interface{} {
	return taggedOf(reflect.ValueOf(value))
}

func taggedInt(i int64) interface{} {
	if i >= -maxSafeInteger && i <= maxSafeInteger {
		return i
	}
	return map[string]string{"$int": strconv.FormatInt(i, 10)}
}

func taggedFloat(f float64) interface{} {
	switch {
	case math.IsNaN(f):
		return map[string]string{"$float": "NaN"}
	case math.IsInf(f, 1):
		return map[string]string{"$float": "Infinity"}
	case math.IsInf(f, -1):
		return map[string]string{"$float": "-Infinity"}
	}
	return map[string]float64{"$float": f}
}

func taggedOf(v reflect.Value) interface{} {
	if !v.IsValid() {
		return nil
	}
	switch v.Kind() {
	case reflect.Interface, reflect.Ptr:
		if v.IsNil() {
			return nil
		}
		return taggedOf(v.Elem())
	case reflect.Bool:
		return v.Bool()
	case reflect.String:
		return v.String()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return taggedInt(v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u := v.Uint()
		if u <= maxSafeInteger {
			return int64(u)
		}
		return map[string]string{"$int": strconv.FormatUint(u, 10)}
	case reflect.Float32:
		// Widen through the decimal form so 0.1f is recorded as 0.1, not 0.10000000149.
		f, _ := strconv.ParseFloat(strconv.FormatFloat(v.Float(), 'g', -1, 32), 64)
		return taggedFloat(f)
	case reflect.Float64:
		return taggedFloat(v.Float())
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			if v.Kind() == reflect.Slice && v.IsNil() {
				return nil
			}
			b := make([]byte, v.Len())
			reflect.Copy(reflect.ValueOf(b), v)
			return map[string]string{"$bytes": hex.EncodeToString(b)}
		}
		if v.Kind() == reflect.Slice && v.IsNil() {
			return nil
		}
		out := make([]interface{}, v.Len())
		for i := range out {
			out[i] = taggedOf(v.Index(i))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return nil
		}
		keys := v.MapKeys()
		allStrings := true
		for _, k := range keys {
			kk := k
			for kk.Kind() == reflect.Interface && !kk.IsNil() {
				kk = kk.Elem()
			}
			if kk.Kind() != reflect.String {
				allStrings = false
				break
			}
		}
		if allStrings {
			out := make(map[string]interface{}, len(keys))
			for _, k := range keys {
				kk := k
				for kk.Kind() == reflect.Interface {
					kk = kk.Elem()
				}
				out[kk.String()] = taggedOf(v.MapIndex(k))
			}
			return out
		}
		pairs := make([][2]interface{}, 0, len(keys))
		for _, k := range keys {
			pairs = append(pairs, [2]interface{}{taggedOf(k), taggedOf(v.MapIndex(k))})
		}
		sort.Slice(pairs, func(i, j int) bool {
			a, _ := json.Marshal(pairs[i][0])
			b, _ := json.Marshal(pairs[j][0])
			return bytes.Compare(a, b) < 0
		})
		return map[string]interface{}{"$map": pairs}
	case reflect.Struct:
		out := make(map[string]interface{}, v.NumField())
		t := v.Type()
		for i := 0; i < v.NumField(); i++ {
			if t.Field(i).PkgPath != "" { // unexported
				continue
			}
			out[t.Field(i).Name] = taggedOf(v.Field(i))
		}
		return out
	}
	return map[string]string{"$unsupported": v.Type().String()}
}

// goTypeOf describes the dynamic Go type held by a value (deep for interface{} holders).
func goTypeOf(value interface{}) string {
	if value == nil {
		return "nil"
	}
	return fmt.Sprintf("%T", value)
}
