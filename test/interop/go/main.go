// Command goharness drives the real go-delayed peer for the nestjs-delayed interop tests.
//
//	goharness worker        -redis 127.0.0.1:6390 -queue q [-keep-alive-timeout 60s] ...
//	goharness enqueue-py    -redis ... -queue q -func InteropHandlers:record -args-json '[1]' -kwargs-json '{}'
//	goharness enqueue-go    -redis ... -queue q -func main.One -args-json '[1]'
//	goharness enqueue-cases -redis ... -queue q -cases cases.json [-dry-run]
//	goharness sweeper       -redis ... -queue q [-interval 60s]
//	goharness sweep-once    -redis ... -queue q
//
// stdout carries one JSON object per line (events), stderr carries logs. See ../PEERS.md.
package main

import (
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"reflect"
	"strings"
	"syscall"
	"time"

	"github.com/gomodule/redigo/redis"
	"github.com/yizhisec/go-delayed/delayed"
)

func emit(event string, fields map[string]interface{}) {
	doc := map[string]interface{}{"event": event}
	for k, v := range fields {
		doc[k] = v
	}
	data, err := json.Marshal(doc)
	if err != nil {
		fail("cannot encode event: %v", err)
	}
	os.Stdout.Write(append(data, '\n'))
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "goharness: "+format+"\n", args...)
	os.Exit(2)
}

type common struct {
	fs               *flag.FlagSet
	redisAddr        string
	queue            string
	dequeueTimeout   time.Duration
	keepAliveTimeout time.Duration
}

func newCommon(name string) *common {
	c := &common{fs: flag.NewFlagSet(name, flag.ExitOnError)}
	c.fs.StringVar(&c.redisAddr, "redis", "127.0.0.1:6379", "Redis address host:port (a redis:// URL is accepted too)")
	c.fs.StringVar(&c.queue, "queue", "", "queue name (required)")
	c.fs.DurationVar(&c.dequeueTimeout, "dequeue-timeout", time.Second, "BLPOP timeout (go-delayed default 1s; must be > 1ms)")
	c.fs.DurationVar(&c.keepAliveTimeout, "keep-alive-timeout", 60*time.Second,
		"worker id key TTL (go-delayed default 60s); e.g. 2s, 5s, 10s survive go-delayed's float32 conversion, 3s and 60s do not (see newQueue)")
	return c
}

func (c *common) parse(args []string) {
	c.fs.Parse(args)
	if c.queue == "" {
		fail("%s: -queue is required", c.fs.Name())
	}
	addr := c.redisAddr
	addr = strings.TrimPrefix(addr, "redis://")
	if i := strings.IndexByte(addr, '/'); i >= 0 {
		addr = addr[:i]
	}
	c.redisAddr = addr
}

// newQueue passes DequeueTimeout/KeepAliveTimeout only when the flag was given:
// go-delayed turns a duration into float32 seconds (ms * 0.001) and sends it to BLPOP/SETEX
// as text, and e.g. KeepAliveTimeout(60s) becomes "60.000004", which SETEX rejects, while
// the built-in default is exactly "60". Of the whole seconds tried, 1, 2, 4, 5, 8, 9, 10 and 20
// survive; 3, 6, 7, 15, 30, 45, 60, 90 and 120 do not.
func (c *common) newQueue() *delayed.Queue {
	var options []delayed.QueueOption
	c.fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "dequeue-timeout":
			options = append(options, delayed.DequeueTimeout(c.dequeueTimeout))
		case "keep-alive-timeout":
			options = append(options, delayed.KeepAliveTimeout(c.keepAliveTimeout))
		}
	})
	return delayed.NewQueue(c.queue, delayed.NewRedisPool(c.redisAddr), options...)
}

func serialize(task delayed.Task) string {
	data, err := task.Serialize()
	if err != nil {
		fail("cannot serialize task: %v", err)
	}
	return hex.EncodeToString(data)
}

// ------------------------------------------------------------------ worker

// unexportedString reads an unexported string field (the worker id) for the ready event.
func unexportedString(ptr interface{}, field string) string {
	v := reflect.ValueOf(ptr)
	for v.Kind() == reflect.Ptr {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return ""
	}
	f := v.FieldByName(field)
	if !f.IsValid() || f.Kind() != reflect.String {
		return ""
	}
	return f.String()
}

func cmdWorker(args []string) {
	c := newCommon("worker")
	keepAliveInterval := c.fs.Duration("keep-alive-interval", 15*time.Second, "period of the SETEX refresh (go-delayed default 15s)")
	results := c.fs.String("results-key", os.Getenv("INTEROP_RESULTS_KEY"),
		"Redis list the handlers record into (default $INTEROP_RESULTS_KEY, else interop:calls:<queue>)")
	c.parse(args)

	resultsKey = *results
	if resultsKey == "" {
		resultsKey = "interop:calls:" + c.queue
	}
	resultsPool = delayed.NewRedisPool(c.redisAddr)

	queue := c.newQueue()
	w := delayed.NewWorker(queue, delayed.KeepAliveDuration(*keepAliveInterval))
	w.RegisterHandlers(allHandlers...)
	id := unexportedString(w, "id")

	// go-delayed installs its own SIGHUP handler (graceful stop). The harness maps SIGTERM
	// and SIGINT to the same Worker.Stop().
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		for range sigs {
			w.Stop()
		}
	}()

	done := make(chan struct{})
	go func() {
		w.Run()
		close(done)
	}()

	// Announce once the worker's liveness key exists (Run sets it before the first BLPOP).
	// "alive" is false when it never appeared within 2 s, e.g. because SETEX rejected the
	// keep-alive timeout (see newQueue): such a worker looks dead to every sweeper.
	alive := false
	if id != "" {
		conn := resultsPool.Get()
		for i := 0; i < 200 && !alive; i++ {
			n, err := redis.Int(conn.Do("EXISTS", id))
			alive = err == nil && n == 1
			if !alive {
				time.Sleep(10 * time.Millisecond)
			}
		}
		conn.Close()
	}
	paths := make([]string, 0, len(allHandlers))
	for _, h := range allHandlers {
		if nh := delayed.NewHandler(h); nh != nil {
			paths = append(paths, unexportedString(nh, "path"))
		}
	}
	emit("ready", map[string]interface{}{"worker_id": id, "alive": alive, "pid": os.Getpid(), "queue": c.queue, "handlers": paths})
	<-done
	emit("stopped", map[string]interface{}{"worker_id": id})
}

// ------------------------------------------------------------------ enqueue

func decodeArgs(text string) []interface{} {
	v, err := decodeTagged(text)
	if err != nil {
		fail("bad -args-json: %v", err)
	}
	list, ok := v.([]interface{})
	if !ok {
		fail("-args-json must be a JSON array")
	}
	return list
}

func cmdEnqueuePy(args []string) {
	c := newCommon("enqueue-py")
	funcPath := c.fs.String("func", "", "function path, e.g. a Node handler name InteropHandlers:record (required)")
	argsJSON := c.fs.String("args-json", "[]", "tagged JSON array")
	kwargsJSON := c.fs.String("kwargs-json", "{}", "tagged JSON object, or null for a nil kwargs")
	count := c.fs.Int("count", 1, "how many times")
	c.parse(args)
	if *funcPath == "" {
		fail("enqueue-py: -func is required")
	}
	taskArgs := decodeArgs(*argsJSON)
	kwargs, err := decodeTagged(*kwargsJSON)
	if err != nil {
		fail("bad -kwargs-json: %v", err)
	}
	queue := c.newQueue()
	for i := 0; i < *count; i++ {
		task := delayed.NewPyTask(*funcPath, taskArgs, kwargs)
		h := serialize(task)
		if err := queue.Enqueue(task); err != nil {
			fail("enqueue failed: %v", err)
		}
		emit("enqueued", map[string]interface{}{"index": i, "hex": h})
	}
}

func cmdEnqueueGo(args []string) {
	c := newCommon("enqueue-go")
	funcPath := c.fs.String("func", "", "Go function path, e.g. main.One (required)")
	argsJSON := c.fs.String("args-json", "[]", "tagged JSON array, passed as NewGoTask(func, args...)")
	count := c.fs.Int("count", 1, "how many times")
	c.parse(args)
	if *funcPath == "" {
		fail("enqueue-go: -func is required")
	}
	taskArgs := decodeArgs(*argsJSON)
	queue := c.newQueue()
	for i := 0; i < *count; i++ {
		task := delayed.NewGoTask(*funcPath, taskArgs...)
		h := serialize(task)
		if err := queue.Enqueue(task); err != nil {
			fail("enqueue failed: %v", err)
		}
		emit("enqueued", map[string]interface{}{"index": i, "hex": h})
	}
}

func cmdEnqueueCases(args []string) {
	c := newCommon("enqueue-cases")
	casesFile := c.fs.String("cases", "", "tagged JSON file: a list of cases (required)")
	dryRun := c.fs.Bool("dry-run", false, "only print the serialized bytes")
	c.parse(args)
	data, err := os.ReadFile(*casesFile)
	if err != nil {
		fail("cannot read cases: %v", err)
	}
	parsed, err := decodeTagged(string(data))
	if err != nil {
		fail("bad cases file: %v", err)
	}
	cases, ok := parsed.([]interface{})
	if !ok {
		fail("the cases file must hold a JSON array")
	}
	var queue *delayed.Queue
	if !*dryRun {
		queue = c.newQueue()
	}
	for i, raw := range cases {
		cs, ok := raw.(map[string]interface{})
		if !ok {
			fail("case %d is not an object", i)
		}
		funcPath, _ := cs["func"].(string)
		var task delayed.Task
		fields := map[string]interface{}{"index": i, "name": cs["name"]}
		if isGo, _ := cs["go"].(bool); isGo {
			var taskArgs []interface{}
			if a, present := cs["args"]; present && a != nil {
				taskArgs, ok = a.([]interface{})
				if !ok {
					fail("case %d: args must be an array", i)
				}
			}
			task = delayed.NewGoTask(funcPath, taskArgs...)
			fields["kind"] = "go"
		} else {
			var taskArgs, kwargs interface{}
			if a, present := cs["args"]; present {
				taskArgs = a
			} else {
				taskArgs = []interface{}{}
			}
			if k, present := cs["kwargs"]; present {
				kwargs = k
			} else {
				kwargs = map[string]interface{}{}
			}
			task = delayed.NewPyTask(funcPath, taskArgs, kwargs)
			fields["kind"] = "py"
			if r, present := cs["retry"]; present {
				if n, isInt := r.(int64); !isInt || n != 0 {
					// go-delayed's PyTask has no retry field: it cannot express one.
					fields["retry_dropped"] = true
				}
			}
		}
		fields["hex"] = serialize(task)
		if queue != nil {
			if err := queue.Enqueue(task); err != nil {
				fail("case %d: enqueue failed: %v", i, err)
			}
			emit("enqueued", fields)
		} else {
			emit("serialized", fields)
		}
	}
}

// ------------------------------------------------------------------ sweeper

func cmdSweeper(args []string) {
	c := newCommon("sweeper")
	interval := c.fs.Duration("interval", time.Minute, "sweep period (go-delayed default 1m; it sweeps first, then sleeps)")
	c.parse(args)
	s := delayed.NewSweeper(c.newQueue())
	s.SetInterval(*interval)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	go func() {
		for range sigs {
			s.Stop()
		}
	}()
	emit("ready", map[string]interface{}{"pid": os.Getpid(), "queue": c.queue, "interval_ms": interval.Milliseconds()})
	s.Run()
	emit("stopped", nil)
}

func cmdSweepOnce(args []string) {
	c := newCommon("sweep-once")
	c.parse(args)
	count, err := c.newQueue().RequeueLost()
	if err != nil {
		fail("RequeueLost failed: %v", err)
	}
	emit("swept", map[string]interface{}{"queue": c.queue, "count": count})
}

func main() {
	commands := map[string]func([]string){
		"worker":        cmdWorker,
		"enqueue-py":    cmdEnqueuePy,
		"enqueue-go":    cmdEnqueueGo,
		"enqueue-cases": cmdEnqueueCases,
		"sweeper":       cmdSweeper,
		"sweep-once":    cmdSweepOnce,
	}
	if len(os.Args) < 2 || commands[os.Args[1]] == nil {
		fmt.Fprintln(os.Stderr, "usage: goharness worker|enqueue-py|enqueue-go|enqueue-cases|sweeper|sweep-once [flags]")
		os.Exit(2)
	}
	commands[os.Args[1]](os.Args[2:])
}
