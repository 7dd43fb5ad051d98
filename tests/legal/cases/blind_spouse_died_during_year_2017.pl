% Text
% Carl married Dina on 1990-09-01. Dina, blind since 2000-01-01, died on 2017-05-01; she had no
% income in 2017 and nobody claimed her as a dependent. Carl does not file a joint return for
% 2017; he earned $40,000 and takes the standard deduction.
% By hand: Carl is married as of Dina's death (§7703(a)(1)) and makes no joint return: §1(d).
% §151(b): an additional exemption for his spouse, who has no gross income and is nobody's
% dependent: two exemptions, $4,000. §63(f)(2)(B): the spouse's blindness is determined as of
% her death, and an exemption for her is allowable under §151(b): an additional $600 (Carl is
% married, so not $750). Standard deduction $3,000 + $600 = $3,600. Taxable income $32,400;
% §1(d)(ii): $2,767.50 + 28% of $13,950 = $6,673.50, i.e. $6,674.

% Question
% How much tax does Carl have to pay in 2017? $6674

% Facts
:- [statutes/prolog/init].
marriage_(carl_dina).
agent_(carl_dina,carl).
agent_(carl_dina,dina).
start_(carl_dina,"1990-09-01").
blindness_(dina_blind).
agent_(dina_blind,dina).
start_(dina_blind,"2000-01-01").
death_(dina_dies).
agent_(dina_dies,dina).
start_(dina_dies,"2017-05-01").
income_(carl_wages).
agent_(carl_wages,carl).
amount_(carl_wages,40000).
start_(carl_wages,"2017-12-31").

% Test
:- tax(carl,2017,6674).
:- halt.
