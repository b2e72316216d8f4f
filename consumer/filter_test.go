package consumer

import (
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
)

func TestParseAllowList(t *testing.T) {
	tests := []struct {
		in   string
		want string // String() of the result, "" for an error
	}{
		{"pets", "pets"},
		{" pets , photos/cats/ ,s3://more-pets/in", "pets,photos/cats/,more-pets/in"},
		{"pets/", "pets"},
		{"pets/a/b/c", "pets/a/b/c"},
		{"", ""},
		{" ", ""},
		{"pets,,photos", ""},
		{"pets,", ""},
		{"Pets", ""},
		{"/prefix", ""},
		{"pets/a\x00b", ""},
		{"s3://", ""},
	}
	for _, tt := range tests {
		a, err := ParseAllowList(tt.in)
		if tt.want == "" {
			if err == nil || !errors.Is(err, ErrInvalidAllowList) {
				t.Errorf("ParseAllowList(%q) = %v, %v; want ErrInvalidAllowList", tt.in, a.String(), err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseAllowList(%q): %v", tt.in, err)
			continue
		}
		if got := a.String(); got != tt.want {
			t.Errorf("ParseAllowList(%q).String() = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAllowListAllows(t *testing.T) {
	a, err := ParseAllowList("pets,photos/cats/,uploads/dog")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		bucket, key string
		want        bool
	}{
		{"pets", "anything.jpg", true},
		{"pets", "deep/down/x.png", true},
		{"photos", "cats/1.jpg", true},
		{"photos", "cats/", true},
		{"photos", "cats.jpg", false},
		{"photos", "dogs/1.jpg", false},
		{"photos", "x/cats/1.jpg", false},
		{"uploads", "dog/1.jpg", true},
		{"uploads", "dogfood.jpg", true}, // S3 prefix semantics
		{"uploads", "do.jpg", false},
		{"other", "cats/1.jpg", false},
		{"petsx", "a.jpg", false},
		{"pet", "a.jpg", false},
	}
	for _, tt := range tests {
		if got := a.Allows(tt.bucket, tt.key); got != tt.want {
			t.Errorf("Allows(%q, %q) = %t, want %t", tt.bucket, tt.key, got, tt.want)
		}
	}
	var zero AllowList
	if zero.Allows("pets", "a.jpg") {
		t.Error("the zero AllowList allows something")
	}
}

func TestAllowListIsFlagValue(t *testing.T) {
	var a AllowList
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Var(&a, "allow", "allowed sources")
	if err := fs.Parse([]string{"--allow", "pets,photos/cats/", "--allow", "more-pets"}); err != nil {
		t.Fatal(err)
	}
	if got, want := a.String(), "pets,photos/cats/,more-pets"; got != want {
		t.Errorf("after flags: %q, want %q", got, want)
	}
	if a.Len() != 3 {
		t.Errorf("Len = %d, want 3", a.Len())
	}
	if err := fs.Parse([]string{"--allow", "Bad"}); err == nil || !strings.Contains(err.Error(), "invalid allow list") {
		t.Errorf("bad flag value: %v", err)
	}
}

func TestNewFilterRejects(t *testing.T) {
	pets, _ := ParseAllowList("pets")
	petsMasks, _ := ParseAllowList("pets/masks/v1/")
	tests := []struct {
		name                string
		allow               AllowList
		outBucket, outPrefx string
	}{
		{"empty allow list", AllowList{}, "out", "masks/"},
		{"no way to tell outputs apart", pets, "", ""},
		{"allow entry inside outputs, same bucket", petsMasks, "", "masks/"},
		{"allow entry inside outputs, output bucket", pets, "pets", ""},
		{"invalid output bucket", pets, "Out", "masks/"},
	}
	for _, tt := range tests {
		if f, err := NewFilter(tt.allow, tt.outBucket, tt.outPrefx); !errors.Is(err, ErrInvalidAllowList) {
			t.Errorf("%s: NewFilter = %v, %v; want ErrInvalidAllowList", tt.name, f, err)
		}
	}
}

func TestFilterCheck(t *testing.T) {
	allow, err := ParseAllowList("pets,photos/cats/")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                 string
		outBucket, outPrefix string
		bucket, key          string
		want                 error // nil, ErrIgnored or ErrNotAllowed
	}{
		{"allowed", "", "masks/", "pets", "a.jpg", nil},
		{"own mask in source bucket", "", "masks/", "pets", "masks/a.png", ErrIgnored},
		{"own mask in another allowed bucket", "", "masks/", "photos", "masks/cats/a.png", ErrIgnored},
		{"masks prefix inside an allowed prefix", "", "cats/masks/", "photos", "cats/masks/a.png", ErrIgnored},
		{"similar name is not output", "", "masks/", "pets", "masks.jpg", nil},
		{"not allowed", "", "masks/", "other", "a.jpg", ErrNotAllowed},
		{"dedicated output bucket", "results", "", "results", "pets/a.png", ErrIgnored},
		{"output bucket does not shadow sources", "results", "", "pets", "a.jpg", nil},
		{"output bucket and prefix, watched bucket", "pets", "out/", "pets", "out/a.png", ErrIgnored},
		{"output bucket and prefix, other key", "pets", "out/", "pets", "in/a.jpg", nil},
		{"output prefix only applies to output bucket", "results", "masks/", "pets", "masks/a.jpg", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := NewFilter(allow, tt.outBucket, tt.outPrefix)
			if err != nil {
				t.Fatal(err)
			}
			err = f.Check(ImageRef{Bucket: tt.bucket, Key: tt.key})
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			var me *MessageError
			if !errors.Is(err, tt.want) || !errors.As(err, &me) || me.Reason == "" {
				t.Fatalf("Check = %v, want a *MessageError of kind %v", err, tt.want)
			}
		})
	}
}
