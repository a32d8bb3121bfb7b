package client

import "fmt"

// toStr renders values for comparison, with byte slices as strings.
func toStr(v any) string {
	switch x := v.(type) {
	case []byte:
		return fmt.Sprintf("%q", x)
	case string:
		return fmt.Sprintf("%q", x)
	case [][]byte:
		s := "["
		for _, b := range x {
			if b == nil {
				s += "nil "
			} else {
				s += fmt.Sprintf("%q ", b)
			}
		}
		return s + "]"
	case int:
		return fmt.Sprint(int64(x))
	}
	return fmt.Sprint(v)
}
