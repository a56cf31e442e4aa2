package workload_test

import (
	"fmt"

	"github.com/simrun/simrun/workload"
)

func ExampleNewKV() {
	kv := workload.NewKV()
	for _, op := range []workload.Op{
		{Kind: workload.OpPut, Key: "k1", Value: "c0.1"},
		{Kind: workload.OpAppend, Key: "k1", Value: "c1.1"},
		{Kind: workload.OpCAS, Key: "k1", Expect: "c0.1", Value: "c2.1"},
		{Kind: workload.OpGet, Key: "k1"},
	} {
		fmt.Printf("%-20s -> %s\n", op, kv.Apply(op.Encode()))
	}
	// Output:
	// put k1 c0.1          -> ok
	// append k1 c1.1       -> ok
	// cas k1 c0.1 c2.1     -> fail c0.1,c1.1
	// get k1               -> ok c0.1,c1.1
}
