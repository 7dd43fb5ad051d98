% Text
% Dina was born on March 9th, 1950 and has been blind since 2001. She is divorced since
% 2012 (a decree of divorce of 2012-05-14 ended her marriage to Olaf, married 1990). Her
% daughter Eve, born 2005-08-20, has lived with her in her house all her life. Dina pays all
% the costs of the house: $12000 in 2017. Dina earned $50000 in 2017 and takes the standard
% deduction.
% By hand: Dina is not married at the close of 2017 (§7703(a)(2): the decree), is no
% surviving spouse (her husband did not die), and keeps as her home a household that is all
% year the principal place of abode of Eve, her qualifying child (daughter, same abode, 12 at
% the end of 2017, no joint return): head of household (§2(b)(1)(A)(i)). Basic standard
% deduction $4,400 (§63(c)(2)(B)); she is not married and no surviving spouse, so each
% additional amount is $750 (§63(f)(3)): aged, 67 at the close of 2017 ((f)(1)(A)), and blind
% ((f)(2)(A)): $1,500. Standard deduction $5,900. Exemptions: Dina and Eve (§151(b), (c)),
% $4,000. Taxable income $50,000 - $5,900 - $4,000 = $40,100; §1(b)(ii): $4,440 + 28% of
% ($40,100 - $29,600) = $4,440 + $2,940 = $7,380.

% Question
% How much tax does Dina have to pay in 2017? $7380

% Facts
:- [statutes/prolog/init].
birth_(dina_born).
agent_(dina_born,dina).
start_(dina_born,"1950-03-09").
blindness_(dina_blind).
agent_(dina_blind,dina).
start_(dina_blind,"2001-01-01").
marriage_(dina_olaf).
agent_(dina_olaf,dina).
agent_(dina_olaf,olaf).
start_(dina_olaf,"1990-06-02").
legal_separation_(dina_olaf_divorce).
agent_(dina_olaf_divorce,decree_of_divorce).
patient_(dina_olaf_divorce,dina_olaf).
start_(dina_olaf_divorce,"2012-05-14").
daughter_(eve_daughter).
agent_(eve_daughter,eve).
patient_(eve_daughter,dina).
start_(eve_daughter,"2005-08-20").
residence_(dina_home).
agent_(dina_home,dina).
agent_(dina_home,eve).
patient_(dina_home,dina_house).
start_(dina_home,"2005-08-20").
payment_(dina_house_costs).
agent_(dina_house_costs,dina).
purpose_(dina_house_costs,dina_house).
amount_(dina_house_costs,12000).
start_(dina_house_costs,"2017-03-01").
income_(dina_wages).
agent_(dina_wages,dina).
amount_(dina_wages,50000).
start_(dina_wages,"2017-12-31").

% Test
:- tax(dina,2017,7380).
:- halt.
