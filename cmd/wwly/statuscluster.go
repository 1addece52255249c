package main

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/wwly/wwly/client"
)

// clusterRow is one member in `wwly status --cluster`; Err is set when it did not answer.
type clusterRow struct {
	client.ClusterInfo
	Err string `json:"error,omitempty"`
}

// runStatusCluster asks every member for its view: the given addresses first, then every
// member those name. It fails (69) only when none answers.
func runStatusCluster(ctx context.Context, o *statusOptions) error {
	addrs, err := o.conn.addrs()
	if err != nil {
		return err
	}
	opts, err := o.conn.options()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	asked := map[string]bool{}
	var rows []clusterRow
	answered := 0
	for i := 0; i < len(addrs) && i < 64; i++ {
		addr := addrs[i]
		if asked[addr] {
			continue
		}
		asked[addr] = true
		info, err := client.Cluster(ctx, addr, opts...)
		if err != nil {
			rows = append(rows, clusterRow{ClusterInfo: client.ClusterInfo{Addr: addr}, Err: err.Error()})
			continue
		}
		answered++
		rows = append(rows, clusterRow{ClusterInfo: info})
		for _, m := range info.Members {
			addrs = append(addrs, m.Client)
		}
	}
	if answered == 0 {
		return exitWith(exitUnavailable, fmt.Errorf("no cluster member answered at %v (a single-node server does not answer --cluster)", addrs))
	}
	if o.json {
		enc := json.NewEncoder(o.out)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	tw := tabwriter.NewWriter(o.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MEMBER\tADDR\tSTATE\tTERM\tCOMMIT\tAPPLIED\tLEADER")
	for _, r := range rows {
		if r.Err != "" {
			fmt.Fprintf(tw, "?\t%s\tunreachable\t-\t-\t-\t-\n", r.Addr)
			continue
		}
		leader := r.Leader
		if leader == "" {
			leader = "none"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%s\n", r.ID, r.Addr, r.State, r.Term, r.Commit, r.Applied, leader)
	}
	return tw.Flush()
}
