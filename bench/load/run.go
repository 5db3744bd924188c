package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
)

// run: the change stream, and when each change shows in the DriftReport.
type target struct {
	ns, name, env, gitValue string
	drifted                 string // the live value while drifted, "" when equal to Git
	pending                 *change
}

type change struct {
	seq      int
	t        *target
	plant    bool
	value    string // the live value after the change
	answered time.Time
	seen     time.Time
}

func targetsOf(objects []*unstructured.Unstructured) []*target {
	var out []*target
	for _, o := range objects {
		containers, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
		if len(containers) == 0 {
			continue
		}
		env, _, _ := unstructured.NestedSlice(containers[0].(map[string]any), "env")
		if len(env) == 0 {
			continue
		}
		first := env[0].(map[string]any)
		name, _ := first["name"].(string)
		value, _ := first["value"].(string)
		out = append(out, &target{ns: o.GetNamespace(), name: o.GetName(), env: name, gitValue: value})
	}
	return out
}

// envDrifts reads a DriftReport: per "ns/name", the live values of its drifted fields whose path
// names the env var `env[name=X].value`, keyed by X.
func envDrifts(report *unstructured.Unstructured) (map[string]map[string]string, int64) {
	out := map[string]map[string]string{}
	drifts, _, _ := unstructured.NestedSlice(report.Object, "status", "drifts")
	for _, d := range drifts {
		m, ok := d.(map[string]any)
		if !ok {
			continue
		}
		obj, _ := m["object"].(map[string]any)
		path, _ := m["path"].(string)
		i := strings.Index(path, ".env[name=")
		if obj == nil || i < 0 || !strings.HasSuffix(path, "].value") {
			continue
		}
		env := path[i+len(".env[name=") : len(path)-len("].value")]
		key := fmt.Sprint(obj["namespace"], "/", obj["name"])
		if out[key] == nil {
			out[key] = map[string]string{}
		}
		live, _ := m["live"].(string)
		out[key][env] = live
	}
	omitted, _, _ := unstructured.NestedInt64(report.Object, "status", "summary", "omitted", "drifts")
	return out, omitted
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.5) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	return sorted[i]
}

func run(kubeconfig, objectsFile, reportNs, reportName string, rate int, duration time.Duration,
	maxDrifted int, seed int64, csvPath string) {
	targets := targetsOf(readObjects(objectsFile))
	if len(targets) == 0 {
		die("%s: no Deployment with an env var", objectsFile)
	}
	byKey := map[string]*target{}
	for _, t := range targets {
		byKey[t.ns+"/"+t.name] = t
	}
	cfg := config(kubeconfig)
	client := dynamic.NewForConfigOrDie(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var mu sync.Mutex
	var changes []*change
	omittedSeen := int64(0)
	pendingCount := 0
	// The watcher: each DriftReport version settles every pending change it reflects.
	settle := func(report *unstructured.Unstructured, at time.Time) {
		drifts, omitted := envDrifts(report)
		mu.Lock()
		defer mu.Unlock()
		if omitted > omittedSeen {
			omittedSeen = omitted
		}
		for _, c := range changes {
			if c.t.pending != c || c.answered.IsZero() {
				continue
			}
			live, drifted := drifts[c.t.ns+"/"+c.t.name][c.t.env]
			if (c.plant && drifted && live == c.value) || (!c.plant && !drifted) {
				c.seen = at
				c.t.pending = nil
				pendingCount--
			}
		}
	}
	watchReady := make(chan struct{})
	go func() {
		first := true
		for ctx.Err() == nil {
			list, err := client.Resource(driftReports).Namespace(reportNs).List(ctx,
				metav1.ListOptions{FieldSelector: "metadata.name=" + reportName})
			if err != nil {
				time.Sleep(time.Second)
				continue
			}
			for i := range list.Items {
				settle(&list.Items[i], time.Now())
			}
			w, err := client.Resource(driftReports).Namespace(reportNs).Watch(ctx, metav1.ListOptions{
				FieldSelector: "metadata.name=" + reportName, ResourceVersion: list.GetResourceVersion()})
			if err != nil {
				time.Sleep(time.Second)
				continue
			}
			if first {
				close(watchReady)
				first = false
			}
			for ev := range w.ResultChan() {
				if ev.Type == watch.Added || ev.Type == watch.Modified {
					if u, ok := ev.Object.(*unstructured.Unstructured); ok {
						settle(u, time.Now())
					}
				}
			}
		}
	}()
	<-watchReady

	rng := rand.New(rand.NewSource(seed))
	interval := time.Minute / time.Duration(rate)
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	start := time.Now()
	skipped := 0
	patchErrors := 0
	var drifted []*target
	fmt.Fprintf(os.Stderr, "changing %d Deployments: %d changes/min for %s (one every %s)\n",
		len(targets), rate, duration, interval)
	lastProgress := start
	for seq := 1; time.Since(start) < duration; seq++ {
		<-ticker.C
		mu.Lock()
		var c *change
		// Revert the oldest drift when the report holds enough of them, else plant a new one.
		if len(drifted) >= maxDrifted || (len(drifted) > 0 && rng.Intn(2) == 0) {
			for i, t := range drifted {
				if t.pending == nil {
					drifted = append(drifted[:i:i], drifted[i+1:]...)
					c = &change{seq: seq, t: t, plant: false, value: t.gitValue}
					break
				}
			}
		}
		if c == nil && len(drifted) < maxDrifted {
			for tries := 0; tries < 100; tries++ {
				t := targets[rng.Intn(len(targets))]
				if t.pending == nil && t.drifted == "" {
					c = &change{seq: seq, t: t, plant: true, value: fmt.Sprintf("load-%d", seq)}
					drifted = append(drifted, t)
					break
				}
			}
		}
		if c == nil {
			skipped++
			mu.Unlock()
			continue
		}
		c.t.pending = c
		pendingCount++
		changes = append(changes, c)
		mu.Unlock()

		patch := fmt.Sprintf(`[{"op":"replace","path":"/spec/template/spec/containers/0/env/0/value","value":%q}]`, c.value)
		_, err := client.Resource(deployments).Namespace(c.t.ns).Patch(ctx, c.t.name, types.JSONPatchType,
			[]byte(patch), metav1.PatchOptions{FieldManager: "load-test"})
		answered := time.Now()
		mu.Lock()
		if err != nil {
			patchErrors++
			c.t.pending = nil
			pendingCount--
			changes = changes[:len(changes)-1]
			fmt.Fprintf(os.Stderr, "patch %s/%s: %v\n", c.t.ns, c.t.name, err)
		} else {
			c.answered = answered
			if c.plant {
				c.t.drifted = c.value
			} else {
				c.t.drifted = ""
			}
		}
		mu.Unlock()
		if time.Since(lastProgress) >= time.Minute {
			lastProgress = time.Now()
			mu.Lock()
			fmt.Fprintf(os.Stderr, "%.0f s: %d changes, %d not yet in the report\n",
				time.Since(start).Seconds(), len(changes), pendingCount)
			mu.Unlock()
		}
	}
	// Let the last changes reach the report (at most 60 s).
	drainUntil := time.Now().Add(60 * time.Second)
	for time.Now().Before(drainUntil) {
		mu.Lock()
		p := pendingCount
		mu.Unlock()
		if p == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancel()

	mu.Lock()
	defer mu.Unlock()
	var latencies []time.Duration
	perMinute := map[int][]time.Duration{}
	csv, err := os.Create(csvPath)
	if err != nil {
		die("%v", err)
	}
	defer csv.Close()
	fmt.Fprintln(csv, "seq,kind,namespace,name,answered_s,latency_ms")
	missed := 0
	for _, c := range changes {
		kind := "revert"
		if c.plant {
			kind = "drift"
		}
		lat := ""
		if c.seen.IsZero() {
			missed++
		} else {
			d := c.seen.Sub(c.answered)
			latencies = append(latencies, d)
			m := max(min(int(c.answered.Sub(start)/time.Minute), int(duration/time.Minute)-1), 0)
			perMinute[m] = append(perMinute[m], d)
			lat = fmt.Sprintf("%.1f", float64(d.Microseconds())/1000)
		}
		fmt.Fprintf(csv, "%d,%s,%s,%s,%.3f,%s\n", c.seq, kind, c.t.ns, c.t.name,
			c.answered.Sub(start).Seconds(), lat)
	}
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	ms := func(d time.Duration) string { return fmt.Sprintf("%.0f", float64(d.Microseconds())/1000) }
	summary := map[string]any{
		"changes": len(changes), "seen": len(latencies), "missed": missed, "skipped": skipped,
		"patch_errors": patchErrors, "omitted_drifts_max": omittedSeen,
		"seconds": time.Since(start).Seconds(),
		"p50_ms":  ms(percentile(latencies, 0.50)), "p90_ms": ms(percentile(latencies, 0.90)),
		"p99_ms": ms(percentile(latencies, 0.99)), "max_ms": ms(percentile(latencies, 1.0)),
	}
	var minutes []map[string]any
	for m := 0; m < len(perMinute)+1; m++ {
		l, ok := perMinute[m]
		if !ok {
			continue
		}
		sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
		minutes = append(minutes, map[string]any{"minute": m + 1, "changes": len(l),
			"p50_ms": ms(percentile(l, 0.5)), "p99_ms": ms(percentile(l, 0.99))})
	}
	summary["per_minute"] = minutes
	out, _ := json.Marshal(summary)
	fmt.Println(string(out))
}
