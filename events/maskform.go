package events

// MaskKeyForm is how a mask key was made from its source key.
type MaskKeyForm string

// The mask key forms.
const (
	// MaskKeyDerived: PREFIX/SOURCEKEY.ETAG.VERSION.mask.png.
	MaskKeyDerived MaskKeyForm = "derived"
	// MaskKeyBounded: PREFIX/READABLE~SHA256.mask.png, used when the derived key would not be a legal S3 key;
	// the mask's object metadata holds the source key's SHA-256.
	MaskKeyBounded MaskKeyForm = "bounded"
)
