package notify

import (
	"net/url"
	"os"
	"path/filepath"
)

func urlUnescape(s string) (string, error) { return url.QueryUnescape(s) }

func readFixture(name string) ([]byte, error) { return os.ReadFile(filepath.Join("testdata", name)) }
