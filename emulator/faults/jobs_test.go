package faults

import "testing"

func TestJobFaults(t *testing.T) {
	var nilJF *JobFaults
	if nilJF.Fail("X") {
		t.Fatal("a nil JobFaults failed a job")
	}
	j := NewJobFaults(7)
	if j.Fail("UpdateListenerAttribute") {
		t.Fatal("no rule, job failed")
	}
	j.Set(JobRule{Action: "UpdateListenerAttribute", Next: 2})
	got := []bool{j.Fail("UpdateListenerAttribute"), j.Fail("UpdateListenerAttribute"), j.Fail("UpdateListenerAttribute"), j.Fail("Other")}
	if got[0] != true || got[1] != true || got[2] != false || got[3] != false {
		t.Fatalf("Next=2 decisions %v", got)
	}
	j.Set(JobRule{FailRate: 1})
	if !j.Fail("Other") || j.Failed()["UpdateListenerAttribute"] != 2 || j.Failed()["Other"] != 1 {
		t.Fatalf("default rule / counts: %v", j.Failed())
	}
	j.Clear()
	if j.Fail("Other") || len(j.Rules()) != 0 {
		t.Fatal("Clear kept a rule")
	}
}
