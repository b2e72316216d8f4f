package results

import (
	"fmt"
	"io"
	"sort"

	"github.com/vitseg/vitseg/events"
)

// WriteSummary writes what the events say: images segmented and dead-lettered, the model versions, the mean pet
// area and the latency quantiles of the results, and the dead letters by class with an example key.
func WriteSummary(w io.Writer, results []events.ResultEvent, dl []events.DeadLetterEvent) {
	fmt.Fprintf(w, "results: %d images segmented, %d dead-lettered\n", len(results), len(dl))
	if len(results) > 0 {
		versions := map[string]int{}
		var totals []float64
		var pet float64
		for _, r := range results {
			versions[r.Model.Name+" "+r.Model.Version]++
			totals = append(totals, r.TimingsMS.Total)
			pet += r.ClassFractions.Pet
		}
		sort.Float64s(totals)
		q := func(p float64) float64 { return totals[min(len(totals)-1, int(p*float64(len(totals))))] }
		fmt.Fprintf(w, "models: %v\n", versions)
		fmt.Fprintf(w, "mean pet area: %.1f%%\n", 100*pet/float64(len(results)))
		fmt.Fprintf(w, "latency (fetch to event) p50 %.0f ms, p99 %.0f ms, max %.0f ms\n", q(0.5), q(0.99), totals[len(totals)-1])
	}
	classes := map[events.ErrorClass][]string{}
	for _, d := range dl {
		key := ""
		if d.Source != nil {
			key = d.Source.Key
		}
		classes[d.ErrorClass] = append(classes[d.ErrorClass], key)
	}
	for c, keys := range classes {
		sort.Strings(keys)
		fmt.Fprintf(w, "dead letters %s: %d (e.g. %s)\n", c, len(keys), keys[0])
	}
}
