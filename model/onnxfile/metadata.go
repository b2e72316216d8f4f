package onnxfile

import (
	"sort"

	"google.golang.org/protobuf/encoding/protowire"
)

// Metadata returns the model's metadata_props.
func Metadata(model []byte) (map[string]string, error) {
	top, err := parse(model)
	if err != nil {
		return nil, err
	}
	props := map[string]string{}
	for _, f := range top {
		if f.num != modelMetadataProps {
			continue
		}
		entry, err := parse(f.val)
		if err != nil {
			return nil, err
		}
		props[stringField(entry, entryKey)] = stringField(entry, entryValue)
	}
	return props, nil
}

// SetMetadata sets metadata_props entries, replacing those with the same keys and keeping the others.
func SetMetadata(model []byte, props map[string]string) ([]byte, error) {
	top, err := parse(model)
	if err != nil {
		return nil, err
	}
	var out []field
	for _, f := range top {
		if f.num == modelMetadataProps {
			entry, err := parse(f.val)
			if err != nil {
				return nil, err
			}
			if _, replaced := props[stringField(entry, entryKey)]; replaced {
				continue
			}
		}
		out = append(out, f)
	}
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		entry := marshal([]field{
			{entryKey, protowire.BytesType, []byte(k)},
			{entryValue, protowire.BytesType, []byte(props[k])},
		})
		out = append(out, field{modelMetadataProps, protowire.BytesType, entry})
	}
	return marshal(out), nil
}
