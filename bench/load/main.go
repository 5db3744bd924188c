// plumbline-load: the client side of bench/controller_load.sh, against a real kube-apiserver.
//
//	plumbline-load create   --kubeconfig K --objects all.yaml
//	    creates the namespaces and Deployments of a gen_corpus.py stream, 8 at a time
//	plumbline-load run      --kubeconfig K --objects all.yaml --report NAME [--rate 1000] [--duration 10m]
//	    changes one Deployment's first env value at --rate changes per minute (a drift, or the
//	    revert of one), watches the DriftReport, and prints when each change showed there
//	plumbline-load informer --kubeconfig K
//	    a client-go shared informer caching every Deployment, as a Go controller would: the peer
//	    figure for the controller's memory
//
// Latency is measured from the apiserver's answer to the patch to the DriftReport watch event
// that first shows its effect: the drift with the new value, or no drift on that field after a
// revert. An object is never changed again before its last change showed, so each expected
// state is unambiguous.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

var (
	deployments  = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	driftReports = schema.GroupVersionResource{Group: "plumbline.dev", Version: "v1alpha1", Resource: "driftreports"}
)

func die(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "plumbline-load: "+format+"\n", args...)
	os.Exit(1)
}

func config(kubeconfig string) *rest.Config {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		die("kubeconfig %s: %v", kubeconfig, err)
	}
	cfg.QPS, cfg.Burst = 1000, 2000
	cfg.UserAgent = "plumbline-load"
	return cfg
}

// readObjects reads a YAML stream of Deployments (gen_corpus.py's repo/single/all.yaml).
func readObjects(path string) []*unstructured.Unstructured {
	f, err := os.Open(path)
	if err != nil {
		die("%v", err)
	}
	defer f.Close()
	decoder := utilyaml.NewYAMLOrJSONDecoder(bufio.NewReaderSize(f, 1<<20), 1<<20)
	var out []*unstructured.Unstructured
	for {
		var obj map[string]any
		if err := decoder.Decode(&obj); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			die("%s: document %d: %v", path, len(out)+1, err)
		}
		if obj != nil {
			out = append(out, &unstructured.Unstructured{Object: obj})
		}
	}
	if len(out) == 0 {
		die("%s: no objects", path)
	}
	return out
}

func main() {
	if len(os.Args) < 2 {
		die("usage: plumbline-load create|run|informer --kubeconfig FILE [flags]")
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig of the test apiserver")
	objects := fs.String("objects", "", "gen_corpus.py's repo/single/all.yaml")
	workers := fs.Int("workers", 8, "concurrent creates")
	reportNs := fs.String("report-namespace", "plumbline-system", "the DriftReport's namespace")
	report := fs.String("report", "", "the DriftReport (the Environment's name)")
	rate := fs.Int("rate", 1000, "changes per minute")
	duration := fs.Duration("duration", 10*time.Minute, "how long to change objects")
	maxDrifted := fs.Int("max-drifted", 200, "most objects drifted at once (the report stays whole)")
	seed := fs.Int64("seed", 1, "random seed")
	csvPath := fs.String("csv", "changes.csv", "one line per change")
	_ = fs.Parse(os.Args[2:])
	if *kubeconfig == "" {
		die("--kubeconfig is required")
	}
	switch os.Args[1] {
	case "create":
		create(*kubeconfig, *objects, *workers)
	case "run":
		if *report == "" || *objects == "" {
			die("run needs --report and --objects")
		}
		run(*kubeconfig, *objects, *reportNs, *report, *rate, *duration, *maxDrifted, *seed, *csvPath)
	case "informer":
		informer(*kubeconfig)
	default:
		die("unknown command %q (create, run, informer)", os.Args[1])
	}
}
