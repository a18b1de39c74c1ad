package runbooks

import (
	"regexp"
	"strings"

	"github.com/yuin/goldmark/ast"
)

// commandsIn returns the commands inside the given blocks: every code
// block that is not a diagram, and inline code that reads like a command
// line.
func (p *pageParser) commandsIn(nodes ...ast.Node) []Command {
	out := []Command{}
	for _, n := range nodes {
		_ = ast.Walk(n, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
			if !entering {
				return ast.WalkContinue, nil
			}
			switch t := n.(type) {
			case *ast.FencedCodeBlock:
				lang := string(t.Language(p.src))
				if !isDiagram(lang) {
					out = append(out, makeCommand(lang, p.codeText(t), p.startLine(t)))
				}
				return ast.WalkSkipChildren, nil
			case *ast.CodeBlock:
				out = append(out, makeCommand("", p.codeText(t), p.startLine(t)))
				return ast.WalkSkipChildren, nil
			case *ast.CodeSpan:
				code := strings.TrimSpace(plainText(t, p.src))
				if looksLikeCommand(code) {
					out = append(out, Command{Code: code, Inline: true, Line: p.startLine(t)})
				}
				return ast.WalkSkipChildren, nil
			}
			return ast.WalkContinue, nil
		})
	}
	return out
}

// codeText returns a code block's content, its container's indentation
// removed.
func (p *pageParser) codeText(n ast.Node) string {
	var b strings.Builder
	lines := n.Lines()
	for i := 0; i < lines.Len(); i++ {
		seg := lines.At(i)
		b.Write(seg.Value(p.src))
	}
	return strings.TrimRight(b.String(), "\n ")
}

// isDiagram reports whether a fence's language is a diagram (or a
// markdown snippet), which is shown but is not a command.
func isDiagram(lang string) bool {
	switch strings.ToLower(lang) {
	case "mermaid", "plantuml", "puml", "dot", "graphviz", "ditaa", "d2", "svgbob", "markdown", "md":
		return true
	}
	return false
}

// prompt matches the shell prompts of a transcript: "$ cmd", "user@host:~$
// cmd", "[root@db1 ~]# cmd", "PS C:\> cmd".
// Database and cache shells count too: "mysql> ", "postgres=# ",
// "127.0.0.1:6379> ", and Windows' "C:\> ".
var prompt = regexp.MustCompile(`^\s*(?:\$|[\w.-]+@[\w.-]+(?::[^\s$#]*)?[$#]|\[[^\]\n]+\][$#]|PS [^>\n]*>|(?:mysql|mariadb|MariaDB \[[^\]\n]*\])>|[\w-]+=[#>]|[\w.-]+:\d+>|[A-Z]:\\[^>\n]*>)\s`)

// continuation is the secondary prompt of a command that goes on over
// several lines (a heredoc, an open quote): "> ".
var continuation = regexp.MustCompile(`^\s*> ?`)

// rootPrompt is the "# " prompt of a root shell, which only a console
// transcript uses: elsewhere "# " starts a comment.
var rootPrompt = regexp.MustCompile(`^\s*#\s`)

// makeCommand splits a transcript into the commands to copy and the output
// shown. A fence with no prompt is all command.
func makeCommand(lang, code string, line int) Command {
	c := Command{Lang: lang, Code: code, Line: line}
	if !strings.Contains(code, "$ ") && !strings.Contains(code, "# ") && !strings.Contains(code, "> ") && !strings.Contains(code, ">\n") {
		return c
	}
	console := false
	switch strings.ToLower(lang) {
	case "console", "shell-session", "sh-session", "terminal", "shellsession":
		console = true
	}
	lines := strings.Split(code, "\n")
	promptAt := func(l string) []int {
		loc := prompt.FindStringIndex(l)
		if loc == nil && console {
			loc = rootPrompt.FindStringIndex(l)
		}
		return loc
	}
	firstPrompt := len(lines)
	for i, l := range lines {
		if promptAt(l) != nil {
			firstPrompt = i
			break
		}
	}
	var cmds, output []string
	continued := false
	sawPrompt := false
	afterCommand := false // the previous line was part of a command
	for i, l := range lines {
		if continued {
			cmds = append(cmds, l)
			continued = strings.HasSuffix(strings.TrimRight(l, " "), "\\")
			continue
		}
		if loc := continuation.FindStringIndex(l); afterCommand && loc != nil {
			cmds = append(cmds, l[loc[1]:])
			continue
		}
		afterCommand = false
		if loc := promptAt(l); loc != nil {
			sawPrompt, afterCommand = true, true
			cmd := l[loc[1]:]
			cmds = append(cmds, cmd)
			continued = strings.HasSuffix(strings.TrimRight(cmd, " "), "\\")
			continue
		}
		// A comment before the first prompt, or just before a prompt,
		// explains a command; elsewhere a "#" line is output.
		if !console && strings.HasPrefix(strings.TrimSpace(l), "#") &&
			(i < firstPrompt || (i+1 < len(lines) && promptAt(lines[i+1]) != nil)) {
			cmds = append(cmds, l)
			continue
		}
		output = append(output, l)
	}
	if !sawPrompt {
		return c
	}
	c.Code = strings.Join(cmds, "\n")
	c.Output = strings.TrimRight(strings.Join(output, "\n"), "\n ")
	return c
}

// commandWords are the programs whose names, at the start of inline code,
// make it a command rather than a value.
var commandWords = wordSet(strings.Fields(`
kubectl oc helm kustomize k9s stern kubectx kubens crictl ctr nerdctl docker podman
curl wget http httpie grpcurl dig nslookup host ping traceroute mtr nc ncat telnet openssl ssh scp rsync
psql pg_dump pg_restore pg_basebackup pg_ctl pg_ctlcluster pg_isready patronictl mysql mysqldump mysqladmin
redis-cli mongosh mongo cqlsh nodetool etcdctl etcdutl consul vault nomad terraform ansible ansible-playbook
kafka-topics kafka-consumer-groups kafka-console-consumer kafka-topics.sh kafka-consumer-groups.sh
rabbitmqctl rabbitmq-diagnostics nats aws gcloud gsutil az doctl
systemctl journalctl service dmesg uptime top htop iotop iostat vmstat mpstat sar free df du ls cat less
tail head grep egrep zgrep awk sed find lsof ss netstat ip iptables nft tcpdump strace perf ps pgrep pkill kill
mount umount lsblk blkid fdisk parted mkfs resize2fs xfs_growfs mdadm smartctl zpool zfs lvs vgs pvs lvextend
chronyc ntpq timedatectl hostnamectl sudo su chmod chown rm mv cp mkdir ln tar gzip gunzip xargs jq yq
git make go python python3 echo printf watch timeout env bash sh pip java jcmd jstack jmap node npm promtool amtool prometheus alertmanager
velero argocd flux istioctl linkerd cilium calicoctl ceph rados rbd gluster certbot step cfssl
`))

// ambiguousWords are program names that are also ordinary words.
var ambiguousWords = wordSet(strings.Fields(`
node service host top env make go watch timeout step kill free find less head tail cat ip ss
host flux make service mount ping sort dig`))

// looksLikeCommand reports whether inline code reads like a command line:
// a known program followed by arguments, or a ./script.
func looksLikeCommand(code string) bool {
	fields := strings.Fields(code)
	if len(fields) < 2 {
		return false
	}
	first := strings.TrimPrefix(fields[0], "$")
	if first == "" && len(fields) > 2 {
		first = fields[1]
	}
	if strings.HasPrefix(first, "./") || strings.HasPrefix(first, "/usr/") || strings.HasPrefix(first, "/bin/") {
		return true
	}
	if !commandWords[first] {
		return false
	}
	if !ambiguousWords[first] {
		return true
	}
	// "node pool", "service account", "top 10": an ordinary word needs an
	// argument that only a command line has.
	for _, f := range fields[1:] {
		if strings.HasPrefix(f, "-") || strings.ContainsAny(f, "/=.") {
			return true
		}
	}
	return false
}
