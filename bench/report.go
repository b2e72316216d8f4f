package bench

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Row is one reported number.
type Row struct {
	Name  string  `json:"name"` // what was measured, e.g. "article b8 images/s"
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
	// Lo and Hi are the smallest and largest per-round values behind Value (a median), when it has rounds.
	Lo   float64 `json:"lo,omitempty"`
	Hi   float64 `json:"hi,omitempty"`
	Note string  `json:"note,omitempty"`
}

// Report is the outcome of one benchmark run.
type Report struct {
	Part      string    `json:"part"` // inference, train, pipeline
	Started   time.Time `json:"started"`
	Finished  time.Time `json:"finished"`
	Machine   Machine   `json:"machine"`
	LoadStart LoadAvg   `json:"load_start"`
	LoadEnd   LoadAvg   `json:"load_end"`
	Command   string    `json:"command"`
	Rows      []Row     `json:"rows"`
	Notes     []string  `json:"notes,omitempty"`
}

// NewReport starts a report of part, recording the machine and the current load average.
func NewReport(part, command string) *Report {
	load, _ := ReadLoadAvg()
	return &Report{Part: part, Started: time.Now().UTC(), Machine: DescribeMachine(), LoadStart: load, Command: command}
}

// Add appends a row with a single value. A value that is not finite is stored as 0 with the note "no data".
func (r *Report) Add(name string, value float64, unit, note string) {
	r.Rows = append(r.Rows, finite(Row{Name: name, Value: value, Unit: unit, Note: note}))
}

// AddRounds appends a row whose value is the median of per-round values, keeping their range.
func (r *Report) AddRounds(name string, perRound []float64, unit, note string) {
	lo, hi := MinMax(perRound)
	r.Rows = append(r.Rows, finite(Row{Name: name, Value: Median(perRound), Unit: unit, Lo: lo, Hi: hi, Note: note}))
}

// finite replaces values JSON cannot carry (NaN, infinities).
func finite(row Row) Row {
	bad := func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }
	if bad(row.Value) {
		row.Value = 0
		row.Note = strings.TrimSpace("no data " + row.Note)
	}
	if bad(row.Lo) || bad(row.Hi) {
		row.Lo, row.Hi = 0, 0
	}
	return row
}

// Notef appends a free-form note.
func (r *Report) Notef(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// Finish records the end time and load average.
func (r *Report) Finish() {
	r.Finished = time.Now().UTC()
	r.LoadEnd, _ = ReadLoadAvg()
}

// WriteTable prints the report as an aligned table.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "== %s  (%d CPUs, %s; load %s -> %s; %s)\n", r.Part, r.Machine.CPUs, r.Machine.CPUModel,
		r.LoadStart, r.LoadEnd, r.Finished.Sub(r.Started).Round(time.Second))
	fmt.Fprintln(tw, "measure\tmedian\tunit\tper-round range\tnote")
	for _, row := range r.Rows {
		rng := ""
		if row.Lo != 0 || row.Hi != 0 {
			rng = formatValue(row.Lo) + " .. " + formatValue(row.Hi)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", row.Name, formatValue(row.Value), row.Unit, rng, row.Note)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(tw, "note: %s\n", n)
	}
	return tw.Flush()
}

func formatValue(v float64) string {
	switch a := math.Abs(v); {
	case math.IsNaN(v):
		return "n/a"
	case a >= 100:
		return fmt.Sprintf("%.1f", v)
	case a >= 1:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.3f", v)
	}
}

// Save writes the report as DIR/PART.json.
func (r *Report) Save(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("save report: %w", err)
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("save report: %w", err)
	}
	return os.WriteFile(filepath.Join(dir, r.Part+".json"), append(b, '\n'), 0o644)
}

// LoadReports reads every DIR/*.json report, ordered inference, train, pipeline, then by name.
func LoadReports(dir string) ([]*Report, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no reports in %s", dir)
	}
	var out []*Report
	var errs []error
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var r Report
		if err := json.Unmarshal(b, &r); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p, err))
			continue
		}
		out = append(out, &r)
	}
	order := map[string]int{"inference": 0, "train": 1, "pipeline": 2}
	sort.SliceStable(out, func(i, j int) bool {
		oi, iok := order[out[i].Part]
		oj, jok := order[out[j].Part]
		switch {
		case iok && jok:
			return oi < oj
		case iok != jok:
			return iok
		}
		return strings.Compare(out[i].Part, out[j].Part) < 0
	})
	return out, errors.Join(errs...)
}
