% Text
% Jon and Kay have been married since 2008 and file separate returns. Kay earned $15000 in 2016 and
% nothing in 2017; Jon earned $45000 in 2016 and $47000 in 2017.
% They do not itemize.
% By hand: 2017: Jon is married (§7703), no joint return: §1(d). Standard deduction $3,000
% (§63(c)(2)(C)); exemptions for himself and for Kay (§151(b)) $4,000: taxable $40,000, §1(d)(ii)
% $2,767.50 + 28% of $21,550 = $8,801.50, rounded up.

% Question
% How much tax does Jon have to pay in 2017? $8802

% Facts
:- [statutes/prolog/init].
marriage_(jon_kay_marriage).
agent_(jon_kay_marriage,jon).
agent_(jon_kay_marriage,kay).
start_(jon_kay_marriage,"2008-04-04").
income_(kay_income_2016).
agent_(kay_income_2016,kay).
amount_(kay_income_2016,15000).
start_(kay_income_2016,"2016-12-31").
income_(jon_income_2016).
agent_(jon_income_2016,jon).
amount_(jon_income_2016,45000).
start_(jon_income_2016,"2016-12-31").
income_(jon_income_2017).
agent_(jon_income_2017,jon).
amount_(jon_income_2017,47000).
start_(jon_income_2017,"2017-12-31").

% Test
:- tax(jon,2017,8802).
:- halt.
