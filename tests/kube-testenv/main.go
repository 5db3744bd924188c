// kube-testenv: a real kube-apiserver on an embedded etcd, in one process,
// for plumbline's integration tests. Normally started by ./start, which
// makes the certificates and the token file this program expects.
//
//	kube-testenv --data-dir D --cert-dir C --secure-port P [--etcd-client-port N]
//	             [--etcd-peer-port N] [--etcd-unsafe-no-fsync] [--watch-pid PID]
//	             [-- extra apiserver flags...]
//	kube-testenv free-ports N     print N free 127.0.0.1 TCP ports, one a line
//
// Extra apiserver flags come after the ones this program sets, so a scalar
// flag given there (e.g. --watch-cache=false) wins.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.etcd.io/etcd/server/v3/embed"

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
	_ "time/tzdata"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "free-ports" {
		os.Exit(freePortsCmd(os.Args[2:]))
	}

	fs := flag.NewFlagSet("kube-testenv", flag.ExitOnError)
	dataDir := fs.String("data-dir", "", "etcd data directory (kept across restarts)")
	certDir := fs.String("cert-dir", "", "directory with server.crt, server.key, client-ca.crt, sa.key, tokens.csv")
	securePort := fs.Int("secure-port", 0, "apiserver HTTPS port on 127.0.0.1")
	etcdClientPort := fs.Int("etcd-client-port", 0, "etcd client port on 127.0.0.1 (0: pick a free one)")
	etcdPeerPort := fs.Int("etcd-peer-port", 0, "etcd peer port on 127.0.0.1 (0: pick a free one)")
	noFsync := fs.Bool("etcd-unsafe-no-fsync", false, "disable etcd fsync (survives a process kill, not a machine crash)")
	watchPid := fs.Int("watch-pid", 0, "shut down (as on SIGTERM) when this process exits, e.g. a test that crashed")
	_ = fs.Parse(os.Args[1:])
	extra := fs.Args() // everything after "--" (or after the first non-flag)

	if *dataDir == "" || *certDir == "" || *securePort == 0 {
		fmt.Fprintln(os.Stderr, "kube-testenv: --data-dir, --cert-dir and --secure-port are required")
		fs.Usage()
		os.Exit(2)
	}
	for _, p := range []*int{etcdClientPort, etcdPeerPort} {
		if *p == 0 {
			ports, err := freePorts(1)
			if err != nil {
				fatalf("picking a free port: %v", err)
			}
			*p = ports[0]
		}
	}

	if *watchPid > 0 {
		if err := watchProcess(*watchPid); err != nil {
			fatalf("--watch-pid: %v", err)
		}
	}

	etcd, err := startEtcd(*dataDir, *etcdClientPort, *etcdPeerPort, *noFsync)
	if err != nil {
		fatalf("starting etcd: %v", err)
	}
	go func() {
		if err, ok := <-etcd.Err(); ok && err != nil {
			fatalf("etcd failed: %v", err)
		}
	}()

	cert := func(name string) string { return filepath.Join(*certDir, name) }
	args := []string{
		"--etcd-servers=http://127.0.0.1:" + strconv.Itoa(*etcdClientPort),
		"--secure-port=" + strconv.Itoa(*securePort),
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--endpoint-reconciler-type=none",
		"--tls-cert-file=" + cert("server.crt"),
		"--tls-private-key-file=" + cert("server.key"),
		"--client-ca-file=" + cert("client-ca.crt"),
		"--service-account-key-file=" + cert("sa.key"),
		"--service-account-signing-key-file=" + cert("sa.key"),
		"--service-account-issuer=https://kubernetes.default.svc",
		"--token-auth-file=" + cert("tokens.csv"),
		"--authorization-mode=RBAC",
		"--disable-admission-plugins=ServiceAccount",
		"--service-cluster-ip-range=10.0.0.0/24",
		// On SIGTERM, end open watches within ~2 s (a clean end of the
		// stream) instead of holding the HTTP server open for the 60 s
		// ShutdownTimeout: keeps ./stop and restart tests fast.
		"--shutdown-send-retry-after=true",
	}
	args = append(args, extra...)

	cmd := app.NewAPIServerCommand() // installs the SIGTERM/SIGINT handler
	cmd.SetArgs(args)
	code := cli.Run(cmd) // returns after a graceful shutdown on SIGTERM

	// etcd logs a few "setting up serving ... failed: server closed" errors
	// while it closes: expected, not a failure.
	fmt.Fprintf(os.Stderr, "kube-testenv: apiserver exited with status %d; closing etcd\n", code)
	etcd.Close()
	os.Exit(code)
}

func startEtcd(dir string, clientPort, peerPort int, noFsync bool) (*embed.Etcd, error) {
	cfg := embed.NewConfig()
	cfg.Name = "kube-testenv"
	cfg.Dir = dir
	cfg.Logger = "zap"
	cfg.LogLevel = "error"
	cfg.LogOutputs = []string{"stderr"}
	cfg.UnsafeNoFsync = noFsync
	client := url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(clientPort))}
	peer := url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(peerPort))}
	cfg.ListenClientUrls = []url.URL{client}
	cfg.AdvertiseClientUrls = []url.URL{client}
	cfg.ListenPeerUrls = []url.URL{peer}
	cfg.AdvertisePeerUrls = []url.URL{peer}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)

	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, err
	}
	select {
	case <-e.Server.ReadyNotify():
		return e, nil
	case err := <-e.Err():
		e.Close()
		return nil, err
	case <-time.After(60 * time.Second):
		e.Server.Stop()
		e.Close()
		return nil, fmt.Errorf("etcd not ready after 60s")
	}
}

// watchProcess sends us SIGTERM (the apiserver's graceful shutdown, then etcd
// closes) once process pid is gone, a zombie, or a different process (its
// start time changed: the pid was reused). A test harness passes its own pid,
// so a test that crashes or is killed does not leave a server running. If the
// graceful shutdown hangs, exit anyway 60 s later.
func watchProcess(pid int) error {
	start, ok := processStart(pid)
	if !ok {
		return fmt.Errorf("process %d is not running", pid)
	}
	go func() {
		for {
			time.Sleep(500 * time.Millisecond)
			if now, ok := processStart(pid); ok && now == start {
				continue
			}
			fmt.Fprintf(os.Stderr, "kube-testenv: watched process %d is gone; shutting down\n", pid)
			_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
			time.Sleep(60 * time.Second)
			fmt.Fprintln(os.Stderr, "kube-testenv: graceful shutdown took over 60 s; exiting")
			os.Exit(1)
		}
	}()
	return nil
}

// processStart returns the start time field of /proc/PID/stat, and false if
// the process does not exist or is a zombie.
func processStart(pid int) (string, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the command name may contain spaces or ')'
	if i < 0 {
		return "", false
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state), f[19] is field 22 (starttime)
	if len(f) < 20 || f[0] == "Z" || f[0] == "X" {
		return "", false
	}
	return f[19], true
}

func freePortsCmd(args []string) int {
	n := 1
	if len(args) > 0 {
		v, err := strconv.Atoi(args[0])
		if err != nil || v < 1 || v > 64 {
			fmt.Fprintln(os.Stderr, "usage: kube-testenv free-ports [N]")
			return 2
		}
		n = v
	}
	ports, err := freePorts(n)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kube-testenv:", err)
		return 1
	}
	for _, p := range ports {
		fmt.Println(p)
	}
	return 0
}

// freePorts holds n listeners open at once so the ports are distinct, then
// releases them. Another process could still take one before it is used.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func fatalf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "kube-testenv: "+format+"\n", a...)
	os.Exit(1)
}
