package loadgen

import (
	"fmt"
	"time"
)

// Flags such as --workers 1,8,64 override a scenario's lists.
func ExampleParseIntList() {
	w, err := ParseIntList("1, 8,64")
	fmt.Println(w, err)
	_, err = ParseIntList("8,zero")
	fmt.Println(err)
	// Output:
	// [1 8 64] <nil>
	// runfile: scenario: "zero" is not a positive integer
}

// Durations read and write as text in scenario files and run.json.
func ExampleParseDuration() {
	d, _ := ParseDuration("250ms")
	b, _ := d.MarshalJSON()
	fmt.Println(d.Std() == 250*time.Millisecond, string(b))
	// Output: true "250ms"
}
