% Text
% Lidia, a citizen living in Denver, has been married to Paolo since 2012. Paolo lives in Italy
% and has been a nonresident alien throughout. Lidia earned $40,000 in 2017; Paolo had no
% income. Lidia takes the standard deduction and files her own return.
% By hand: Lidia is married at the close of 2017 (§7703(a)); no joint return is possible with a
% nonresident alien spouse. §151(b): an exemption for the spouse, who has no gross income and
% is nobody's dependent, since no joint return is made. Not a head of household (no qualifying
% individual). §1(d): basic standard deduction $3,000 (§63(c)(2)(C)), exemptions 2 x $2,000.
% Taxable income $40,000 - $3,000 - $4,000 = $33,000; §1(d)(ii): $2,767.50 + 28% of
% ($33,000 - $18,450) = $2,767.50 + $4,074 = $6,841.50, i.e. $6,842.

% Question
% How much tax does Lidia owe for 2017? $6842

% Facts
:- [statutes/prolog/init].
marriage_(lidia_paolo).
agent_(lidia_paolo,lidia).
agent_(lidia_paolo,paolo).
start_(lidia_paolo,"2012-04-14").
nonresident_alien_(paolo_nra).
agent_(paolo_nra,paolo).
start_(paolo_nra,"2012-04-14").
residence_(lidia_denver).
agent_(lidia_denver,lidia).
patient_(lidia_denver,"Denver, Colorado").
start_(lidia_denver,"2010-01-01").
income_(lidia_income).
agent_(lidia_income,lidia).
amount_(lidia_income,40000).
start_(lidia_income,"2017-12-31").

% Test
:- tax(lidia,2017,6842).
:- halt.
