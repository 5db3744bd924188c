// Argo CD's diff (github.com/argoproj/gitops-engine/pkg/diff) on the same pairs plumbline
// compares in bench/compare.sh: every desired object of a YAML stream against the live
// object of the same kind, namespace and name in a List, with gitops-engine's default
// options (diff.Diff: two-way diff with scheme defaults, full normalization). Prints one
// JSON line: how many pairs were compared and which objects it reports as modified.
//
//	gitops-engine-diff DESIRED.yaml LIVE.json
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/argoproj/gitops-engine/pkg/diff"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

type ref struct{ Kind, Namespace, Name string }

func key(u *unstructured.Unstructured) ref {
	return ref{u.GetKind(), u.GetNamespace(), u.GetName()}
}

func readDesired(path string) ([]*unstructured.Unstructured, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	decoder := utilyaml.NewYAMLOrJSONDecoder(bufio.NewReaderSize(f, 1<<20), 4096)
	var out []*unstructured.Unstructured
	for {
		var object map[string]any
		if err := decoder.Decode(&object); errors.Is(err, io.EOF) {
			return out, nil
		} else if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if object != nil {
			out = append(out, &unstructured.Unstructured{Object: object})
		}
	}
}

func readLive(path string) (map[ref]*unstructured.Unstructured, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var list unstructured.UnstructuredList
	if err := list.UnmarshalJSON(data); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := make(map[ref]*unstructured.Unstructured, len(list.Items))
	for i := range list.Items {
		out[key(&list.Items[i])] = &list.Items[i]
	}
	return out, nil
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: gitops-engine-diff DESIRED.yaml LIVE.json")
		os.Exit(2)
	}
	desired, err := readDesired(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	live, err := readLive(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	type modified struct {
		Namespace string `json:"namespace"`
		Name      string `json:"name"`
	}
	result := struct {
		Compared int        `json:"compared"`
		Missing  int        `json:"missingLive"`
		Modified []modified `json:"modified"`
	}{Modified: []modified{}}
	for _, config := range desired {
		k := key(config)
		l, ok := live[k]
		if !ok {
			result.Missing++
			continue
		}
		res, err := diff.Diff(config, l)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s %s/%s: %v\n", k.Kind, k.Namespace, k.Name, err)
			os.Exit(2)
		}
		result.Compared++
		if res.Modified {
			result.Modified = append(result.Modified, modified{k.Namespace, k.Name})
		}
	}
	sort.Slice(result.Modified, func(i, j int) bool {
		a, b := result.Modified[i], result.Modified[j]
		return a.Namespace < b.Namespace || (a.Namespace == b.Namespace && a.Name < b.Name)
	})
	if err := json.NewEncoder(os.Stdout).Encode(result); err != nil {
		os.Exit(2)
	}
}
