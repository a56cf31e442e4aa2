package report

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// Interval is a 95% confidence interval of a proportion.
type Interval struct{ Lo, Hi float64 }

// z95 is the standard normal quantile of a two-sided 95% interval (1.96).
var z95 = distuv.UnitNormal.Quantile(0.975)

// Wilson is the Wilson score interval of k successes in n trials: unlike
// the textbook p ± z·sqrt(p(1-p)/n) it stays inside [0, 1] and is not empty
// at k = 0, which is the common case of a rare bug.
func Wilson(k, n int) Interval {
	if n == 0 {
		return Interval{0, 1}
	}
	p, nf, z2 := float64(k)/float64(n), float64(n), z95*z95
	centre := (p + z2/(2*nf)) / (1 + z2/nf)
	half := z95 / (1 + z2/nf) * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))
	return Interval{max(0, centre-half), min(1, centre+half)}
}

// ClopperPearson is the exact interval from Beta quantiles: conservative,
// never narrower than 95% coverage, for any n.
func ClopperPearson(k, n int) Interval {
	if n == 0 {
		return Interval{0, 1}
	}
	iv := Interval{0, 1}
	if k > 0 {
		iv.Lo = distuv.Beta{Alpha: float64(k), Beta: float64(n - k + 1)}.Quantile(0.025)
	}
	if k < n {
		iv.Hi = distuv.Beta{Alpha: float64(k + 1), Beta: float64(n - k)}.Quantile(0.975)
	}
	return iv
}
