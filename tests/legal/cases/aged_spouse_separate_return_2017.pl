% Text
% Olaf, born January 9th, 1960, has been married to Pam since 1985. Pam was born on
% February 2nd, 1945; she has no income and nobody else claims her. They file separate returns
% for 2017. Olaf was paid $50000 in 2017 and takes the standard deduction.
% By hand: §151(b) allows Olaf an exemption for Pam (separate return, no gross income, nobody's
% dependent), so §63(f)(1)(B) entitles him to $600 for her, aged 65 (married: not $750,
% §63(f)(3)); nothing for himself (57). Standard deduction $3,000 + $600 = $3,600; exemptions
% $4,000; taxable income $42,400: §1(d)(ii), $2,767.50 + 28% of $23,950 = $9,473.50, $9,474.

% Question
% How much tax does olaf have to pay in 2017? $9474

% Facts
:- [statutes/prolog/init].
birth_(olaf_born).
agent_(olaf_born,olaf).
start_(olaf_born,"1960-01-09").
birth_(pam_born).
agent_(pam_born,pam).
start_(pam_born,"1945-02-02").
marriage_(olaf_and_pam).
agent_(olaf_and_pam,olaf).
agent_(olaf_and_pam,pam).
start_(olaf_and_pam,"1985-06-01").
payment_(olaf_paid).
patient_(olaf_paid,olaf).
amount_(olaf_paid,50000).
start_(olaf_paid,"2017-12-31").

% Test
:- tax(olaf,2017,9474).
:- halt.
