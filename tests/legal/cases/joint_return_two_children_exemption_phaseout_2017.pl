% Text
% Rob and Sal, married in 2004, file a joint return for 2017. Their daughter Tess (born August 8th,
% 2008) and Sal's son Uli (born November 11th, 2011) live with them. Rob was paid $250000 and Sal
% $80000 in 2017. They do not itemize.
% By hand: joint AGI $330,000 exceeds the §68(b)(1)(A) amount of $300,000 by $30,000: 12 steps of
% $2,500, 24% (§151(d)(3)): four exemptions (Rob, Sal, and their dependents Tess and Uli, §151(c)
% for either spouse) of $1,520: $6,080. Standard deduction $6,000. Taxable $317,920: §1(a)(v)
% $75,528.50 + 39.6% of $67,920 = $102,424.82.

% Question
% How much tax does Sal have to pay in 2017? $102425

% Facts
:- [statutes/prolog/init].
marriage_(rob_sal).
agent_(rob_sal,rob).
agent_(rob_sal,sal).
start_(rob_sal,"2004-04-04").
joint_return_(rob_sal_2017).
agent_(rob_sal_2017,rob).
agent_(rob_sal_2017,sal).
start_(rob_sal_2017,"2017-01-01").
end_(rob_sal_2017,"2017-12-31").
daughter_(tess_daughter_of_rob).
agent_(tess_daughter_of_rob,tess).
patient_(tess_daughter_of_rob,rob).
start_(tess_daughter_of_rob,"2008-08-08").
mother_(sal_mother_of_tess).
agent_(sal_mother_of_tess,sal).
patient_(sal_mother_of_tess,tess).
start_(sal_mother_of_tess,"2008-08-08").
son_(uli_son_of_sal).
agent_(uli_son_of_sal,uli).
patient_(uli_son_of_sal,sal).
start_(uli_son_of_sal,"2011-11-11").
residence_(rob_home).
agent_(rob_home,rob).
patient_(rob_home,family_house).
start_(rob_home,"2004-04-04").
residence_(sal_home).
agent_(sal_home,sal).
patient_(sal_home,family_house).
start_(sal_home,"2004-04-04").
residence_(tess_home).
agent_(tess_home,tess).
patient_(tess_home,family_house).
start_(tess_home,"2008-08-08").
residence_(uli_home).
agent_(uli_home,uli).
patient_(uli_home,family_house).
start_(uli_home,"2011-11-11").
payment_(rob_salary).
patient_(rob_salary,rob).
amount_(rob_salary,250000).
start_(rob_salary,"2017-12-31").
payment_(sal_salary).
patient_(sal_salary,sal).
amount_(sal_salary,80000).
start_(sal_salary,"2017-12-31").

% Test
:- tax(sal,2017,102425).
:- halt.
