// An apiserver's webhook client around a SIGTERM, for tests/availability
// (issue 13, kubernetes/kubernetes#127335): Go's net/http Transport, as
// kube-apiserver uses it to call webhooks (HTTP/1.1, up to 25 idle
// keep-alive connections per host, idle 90 s, a dead idle connection
// noticed by its background read), in front of two capgate instances
// behind a "Service": a dialer that picks, round robin, among the
// instances whose /readyz answered 200 at its last poll (every 100 ms), or
// stopped doing so less than -lag ms ago, as kube-proxy routes a ClusterIP
// to the ready endpoints and learns late that one went.
//
//	apiserver -ca CA -a PORT -b PORT -term PID -review FILE -delay SECONDS -lag MS
//	apiserver -ca CA -a PORT -b PORT -lag MS -proxy SECONDS
//
// With -proxy it is only the Service, for bench/soak.sh: it listens on a
// loopback port (printed as "listening PORT"), forwards each connection's
// bytes to an instance chosen as above, and exits after SECONDS.
//
// Two clients (two apiservers) each fill a pool with 25 reviews at once
// (connections to both instances), then SIGTERM goes to the instance on -a
// (PID). During its --shutdown-delay the busy client sends three bursts of
// 25, which take every idle connection (those to -a answer with
// Connection: close); the idle one sends nothing. After it (-a has closed
// the idle client's connections to it), the idle client sends 10 reviews
// one after another and a burst of 25, the busy one a burst of 25.
// Prints one line per phase and a summary; a failed review is any error,
// any status but 200, or a wrong uid. Loopback only, 60 s at most.
package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type service struct {
	ports     []string
	ready     []atomic.Bool  // as /readyz last answered
	unreadyAt []atomic.Int64 // when it first stopped answering 200, 0: ready
	lag       time.Duration  // how long new connections still go to it then
	next      atomic.Uint32
}

func (s *service) poll(client *http.Client) {
	for {
		for i, p := range s.ports {
			ok := false
			resp, err := client.Get("https://capgate.capgate.svc:" + p + "/readyz")
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				ok = resp.StatusCode == 200
			}
			s.ready[i].Store(ok)
			if ok {
				s.unreadyAt[i].Store(0)
			} else if s.unreadyAt[i].Load() == 0 {
				s.unreadyAt[i].Store(time.Now().UnixNano())
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// routed: whether new connections still go to endpoint i. Like kube-proxy,
// the Service keeps sending them for a while after the endpoint went.
func (s *service) routed(i int) bool {
	at := s.unreadyAt[i].Load()
	return s.ready[i].Load() || (at != 0 && time.Since(time.Unix(0, at)) < s.lag)
}

func (s *service) dial(ctx context.Context, network, _ string) (net.Conn, error) {
	for try := 0; try < len(s.ports); try++ {
		i := int(s.next.Add(1)) % len(s.ports)
		if s.routed(i) {
			var d net.Dialer
			return d.DialContext(ctx, network, "127.0.0.1:"+s.ports[i])
		}
	}
	return nil, fmt.Errorf("no ready endpoint")
}

type result struct {
	port   string
	reused bool
	closed bool // the answer said Connection: close
	err    error
}

var uid string

func review(client *http.Client, body []byte) result {
	var r result
	trace := &httptrace.ClientTrace{GotConn: func(c httptrace.GotConnInfo) {
		_, r.port, _ = net.SplitHostPort(c.Conn.RemoteAddr().String())
		r.reused = c.Reused
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), "POST",
		"https://capgate.capgate.svc/mutate?timeout=10s", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		r.err = err
		return r
	}
	defer resp.Body.Close()
	var out struct {
		Response struct {
			UID string `json:"uid"`
		} `json:"response"`
	}
	data, err := io.ReadAll(resp.Body)
	r.closed = resp.Close
	switch {
	case err != nil:
		r.err = err
	case resp.StatusCode != 200:
		r.err = fmt.Errorf("status %d", resp.StatusCode)
	case json.Unmarshal(data, &out) != nil || out.Response.UID != uid:
		r.err = fmt.Errorf("not its answer: %.80s", data)
	}
	return r
}

func main() {
	ca := flag.String("ca", "", "CA file")
	a := flag.String("a", "", "port of the instance that gets SIGTERM")
	b := flag.String("b", "", "port of the other instance")
	term := flag.Int("term", 0, "pid of the instance on -a")
	file := flag.String("review", "", "AdmissionReview file")
	delay := flag.Int("delay", 2, "its --shutdown-delay, seconds")
	lag := flag.Int("lag", 1000, "ms the Service still routes to an endpoint after /readyz fails")
	proxySecs := flag.Int("proxy", 0, "only forward connections, for this many seconds")
	flag.Parse()
	pem, err1 := os.ReadFile(*ca)
	body, err2 := os.ReadFile(*file)
	if *proxySecs > 0 {
		err2 = nil
	}
	if err1 != nil || err2 != nil {
		fmt.Println("error reading", *ca, *file)
		os.Exit(2)
	}
	var rv struct {
		Request struct {
			UID string `json:"uid"`
		} `json:"request"`
	}
	json.Unmarshal(body, &rv)
	uid = rv.Request.UID
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	tlsConf := &tls.Config{RootCAs: pool, ServerName: "capgate.capgate.svc"}
	svc := &service{ports: []string{*a, *b}, ready: make([]atomic.Bool, 2),
		unreadyAt: make([]atomic.Int64, 2), lag: time.Duration(*lag) * time.Millisecond}
	probe := &http.Client{Timeout: time.Second, Transport: &http.Transport{
		TLSClientConfig: tlsConf, DisableKeepAlives: true,
		DialContext: func(ctx context.Context, n, addr string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, n, "127.0.0.1:"+strings.Split(addr, ":")[1])
		}}}
	go svc.poll(probe)
	if *proxySecs > 0 {
		for !(svc.ready[0].Load() || svc.ready[1].Load()) {
			time.Sleep(20 * time.Millisecond)
		}
		proxy(svc, *proxySecs)
	}
	// As kube-apiserver's webhook client: HTTP/1.1 only (an empty
	// TLSNextProto map), 25 idle connections per host, 90 s idle timeout.
	newClient := func() *http.Client {
		return &http.Client{Transport: &http.Transport{
			TLSClientConfig: tlsConf, DialContext: svc.dial,
			MaxIdleConnsPerHost: 25, IdleConnTimeout: 90 * time.Second,
			TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{},
		}}
	}
	// Two apiservers: one busy through the shutdown, one idle through it.
	busy, idle := newClient(), newClient()
	for start := time.Now(); !(svc.ready[0].Load() && svc.ready[1].Load()); {
		if time.Since(start) > 5*time.Second {
			fmt.Println("error: instances not ready")
			os.Exit(2)
		}
		time.Sleep(20 * time.Millisecond)
	}
	failed := 0
	count := func(phase string, rs []result) {
		n, byA, byB, reused, closed := len(rs), 0, 0, 0, 0
		for _, r := range rs {
			if r.err != nil {
				failed++
				fmt.Fprintf(os.Stderr, "%s: failed review: %v\n", phase, r.err)
			}
			byA += map[bool]int{true: 1}[r.port == *a]
			byB += map[bool]int{true: 1}[r.port == *b]
			reused += map[bool]int{true: 1}[r.reused]
			closed += map[bool]int{true: 1}[r.closed]
		}
		fmt.Printf("%s reviews %d failed %d by_a %d by_b %d on_reused_connections %d "+
			"answers_closing %d\n", phase, n, countErr(rs), byA, byB, reused, closed)
	}
	burst := func(client *http.Client, n int) []result {
		rs := make([]result, n)
		var wg sync.WaitGroup
		for i := range rs {
			wg.Add(1)
			go func(i int) { defer wg.Done(); rs[i] = review(client, body) }(i)
		}
		wg.Wait()
		return rs
	}
	// 1. 25 at once from each: the pools fill, on both instances.
	count("warm", append(burst(busy, 25), burst(idle, 25)...))
	time.Sleep(time.Second)
	// 2. SIGTERM to the instance on -a; the pool sits idle, then is used.
	syscall.Kill(*term, syscall.SIGTERM)
	t0 := time.Now()
	unready := make(chan time.Duration, 1)
	go func() {
		for svc.ready[0].Load() {
			time.Sleep(5 * time.Millisecond)
		}
		unready <- time.Since(t0)
	}()
	time.Sleep(300 * time.Millisecond)
	// Bursts of 25 take every idle connection, those to -a included: each
	// is answered with Connection: close and not used again.
	var during []result
	for i := 0; i < 3; i++ {
		during = append(during, burst(busy, 25)...)
		time.Sleep(300 * time.Millisecond)
	}
	count("during_delay", during)
	// 3. After the delay the instance closed its idle connections; the
	// transport notices and dials the Service, which has only -b.
	time.Sleep(time.Duration(*delay)*time.Second - time.Since(t0) + 700*time.Millisecond)
	var after []result
	for i := 0; i < 10; i++ {
		after = append(after, review(idle, body))
		time.Sleep(100 * time.Millisecond)
	}
	after = append(after, burst(idle, 25)...)
	count("after_delay_idle_pool", after)
	count("after_delay_busy_pool", burst(busy, 25))
	select {
	case d := <-unready:
		fmt.Printf("summary failed %d readyz_failed_after_ms %d\n", failed, d.Milliseconds())
	default:
		fmt.Printf("summary failed %d readyz_failed_after_ms -1\n", failed)
	}
}

// proxy forwards every connection to PORT to an instance the Service
// routes to; TLS stays end to end.
func proxy(svc *service, secs int) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(2)
	}
	fmt.Printf("listening %d\n", ln.Addr().(*net.TCPAddr).Port)
	time.AfterFunc(time.Duration(secs)*time.Second, func() { os.Exit(0) })
	for {
		c, err := ln.Accept()
		if err != nil {
			continue
		}
		go func() {
			defer c.Close()
			up, err := svc.dial(context.Background(), "tcp", "")
			if err != nil {
				return
			}
			defer up.Close()
			done := make(chan struct{}, 2)
			pipe := func(dst, src net.Conn) {
				io.Copy(dst, src)
				dst.(*net.TCPConn).CloseWrite()
				done <- struct{}{}
			}
			go pipe(up, c)
			go pipe(c, up)
			<-done
			<-done
		}()
	}
}

func countErr(rs []result) int {
	n := 0
	for _, r := range rs {
		if r.err != nil {
			n++
		}
	}
	return n
}
