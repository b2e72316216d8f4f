package manifestcheck

import (
	"fmt"
	"strconv"
	"strings"
)

// cronField is the range and names of one field of a five-field schedule.
type cronField struct {
	name     string
	min, max int
	names    map[string]int
}

var cronFields = []cronField{
	{name: "minute", min: 0, max: 59},
	{name: "hour", min: 0, max: 23},
	{name: "day of month", min: 1, max: 31},
	{name: "month", min: 1, max: 12, names: map[string]int{
		"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6,
		"JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12,
	}},
	{name: "day of week", min: 0, max: 7, names: map[string]int{
		"SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6,
	}},
}

// validateCronSchedule checks a CronJob schedule the way the CronJob
// controller's parser (robfig/cron standard parser) accepts it: five fields or
// one of the @ descriptors; time zones belong in spec.timeZone.
func validateCronSchedule(schedule string) error {
	schedule = strings.TrimSpace(schedule)
	if schedule == "" {
		return fmt.Errorf("empty schedule")
	}
	if strings.Contains(schedule, "TZ=") {
		return fmt.Errorf("schedule %q: time zones go in spec.timeZone, not in the schedule", schedule)
	}
	if strings.HasPrefix(schedule, "@") {
		switch schedule {
		case "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly":
			return nil
		}
		if strings.HasPrefix(schedule, "@every ") {
			return fmt.Errorf("schedule %q: @every is not supported by CronJob", schedule)
		}
		return fmt.Errorf("schedule %q: unknown descriptor", schedule)
	}
	fields := strings.Fields(schedule)
	if len(fields) != len(cronFields) {
		return fmt.Errorf("schedule %q: want %d fields, got %d", schedule, len(cronFields), len(fields))
	}
	for i, text := range fields {
		if err := cronFields[i].validate(text); err != nil {
			return fmt.Errorf("schedule %q: %s: %w", schedule, cronFields[i].name, err)
		}
	}
	return nil
}

func (f cronField) validate(text string) error {
	for _, part := range strings.Split(text, ",") {
		if err := f.validatePart(part); err != nil {
			return err
		}
	}
	return nil
}

func (f cronField) validatePart(part string) error {
	rangeText, stepText, hasStep := strings.Cut(part, "/")
	if hasStep {
		step, err := strconv.Atoi(stepText)
		if err != nil || step <= 0 {
			return fmt.Errorf("bad step %q", stepText)
		}
	}
	if rangeText == "*" || rangeText == "?" {
		return nil
	}
	lowText, highText, isRange := strings.Cut(rangeText, "-")
	low, err := f.value(lowText)
	if err != nil {
		return err
	}
	high := low
	if isRange {
		if high, err = f.value(highText); err != nil {
			return err
		}
	}
	if low > high {
		return fmt.Errorf("range %q runs backwards", rangeText)
	}
	return nil
}

func (f cronField) value(text string) (int, error) {
	if v, ok := f.names[strings.ToUpper(text)]; ok {
		return v, nil
	}
	v, err := strconv.Atoi(text)
	if err != nil {
		return 0, fmt.Errorf("bad value %q", text)
	}
	if v < f.min || v > f.max {
		return 0, fmt.Errorf("value %d out of range %d-%d", v, f.min, f.max)
	}
	return v, nil
}
